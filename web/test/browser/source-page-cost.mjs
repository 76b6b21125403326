// What the node page of a source costs the browser while its followers come, go and change
// (docs/web.md "A node with many followers"): the page in Debian's Chromium over a running server,
// for a number of seconds, counting the page's reads of the node, the elements it creates per read
// (document.createElement calls) and inserts (a MutationObserver: kept rows moved into a new card
// count too), the listeners it adds per read (addEventListener calls), the moves of the version it
// shows, and its task time per second (CDP Performance.getMetrics). Not a test: run by
// hand against a server, e.g.
//   node dist/cli/bin.js sim --nodes 2001 --topology star --group-size 2001 --rate 2 --headless \
//     --duration 120 --http 127.0.0.1:31210 &
//   node web/test/browser/source-page-cost.mjs http://127.0.0.1:31210 n-0000 3 10
// (the server, the node, then one line per window of that many seconds, for that many windows).
import { chromium } from "playwright-core";

const [base, node = "n-0000", windowS = "3", windows = "10"] = process.argv.slice(2);
if (base === undefined) {
  console.error("usage: source-page-cost.mjs SERVER_URL [NODE] [WINDOW_S] [WINDOWS]");
  process.exit(2);
}
const context = await chromium.launchPersistentContext("", {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  viewport: { width: 1400, height: 900 },
});
const page = await context.newPage();
await page.addInitScript(() => {
  const w = /** @type {any} */ (window);
  w.costs = { created: 0, elements: 0, listeners: 0, versions: 0, lastVersion: "" };
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (...args) {
    w.costs.created++;
    return create.apply(this, /** @type {any} */ (args));
  };
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (...args) {
    w.costs.listeners++;
    return add.apply(this, /** @type {any} */ (args));
  };
  new MutationObserver((records) => {
    for (const r of records)
      for (const n of r.addedNodes)
        if (n.nodeType === 1) w.costs.elements += 1 + /** @type {Element} */ (n).querySelectorAll("*").length;
    const v = document.getElementById("node-version")?.textContent ?? "";
    if (v !== w.costs.lastVersion) {
      w.costs.versions++;
      w.costs.lastVersion = v;
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
});
let reads = 0;
const path = `/api/nodes/${encodeURIComponent(node)}`;
page.on("request", (r) => {
  if (new URL(r.url()).pathname === path) reads++;
});
const cdp = await context.newCDPSession(page);
await cdp.send("Performance.enable");
const metric = async () => {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
};
await page.goto(`${base}/#/node/${encodeURIComponent(node)}`);
const costs = () => page.evaluate("({ ...window.costs })");
const rows = () => page.locator(`ul[aria-label="Nodes following ${node}"] li`).count();
for (let i = 0; i < Number(windows); i++) {
  const [m0, c0, r0, t0] = [await metric(), await costs(), reads, process.hrtime.bigint()];
  await page.waitForTimeout(Number(windowS) * 1000);
  const [m1, c1, r1, t1] = [await metric(), await costs(), reads, process.hrtime.bigint()];
  const s = Number(t1 - t0) / 1e9;
  const n = r1 - r0;
  const ms = (k) => (((m1[k] - m0[k]) / s) * 1000).toFixed(0);
  const per = (k) => (n === 0 ? "-" : ((c1[k] - c0[k]) / n).toFixed(0));
  console.log(
    `${(i * Number(windowS)).toString().padStart(4)} s: followers listed ${await rows()}, version ${c1.lastVersion}, ` +
      `${c1.versions - c0.versions} version moves shown, ${n} reads of ${node}, ` +
      `per read ${per("created")} elements created, ${per("elements")} inserted, ${per("listeners")} listeners added ` +
      `(${c1.created - c0.created}, ${c1.elements - c0.elements} and ${c1.listeners - c0.listeners} in all), ` +
      `task time ${ms("TaskDuration")} ms/s (script ${ms("ScriptDuration")}, style ${ms("RecalcStyleDuration")}, ` +
      `layout ${ms("LayoutDuration")}), DOM nodes ${m1.Nodes}, listeners ${m1.JSEventListeners}`,
  );
}
await context.close();
