/**
 * The web page at scale: a 5,000-node `twinfleet sim --http` (presses off, no pairing, so each set
 * is one twin change) and Debian's Chromium.
 *   npm run bench -- web-page [--nodes 5000] [--rate 100] [--duration 20] [--loads 3]
 *   npm run bench -- web-page --screenshots     docs/web-fleet.png and docs/web-node.png instead
 *
 * First render: from navigation start to the frame that has drawn the first screen of node rows and
 * the total count (the page marks it, `twinfleet-first-render`, right after those DOM writes).
 *
 * Change → DOM: the bench sets nodes through the API at `--rate` sets per second, round-robin over
 * the nodes on the first screen (their rows are in the DOM, the worst case for the page), flipping
 * each. For each set it notes the time it sent the request; the page notes, for every node change it
 * receives on the event stream, the time it arrived and the time the frame that drew it finished its
 * DOM writes (window.twinfleetTimes). Both times are put on one clock, the host's wall clock, through
 * each process's performance.timeOrigin (the bench and the browser run on the same host). The latency
 * of a set is from its request to the drawing of the first change of that node to the new state
 * received after the request: it contains the node's whole round trip (HTTP, twins, MQTT to the
 * simulated node and its report back, the event batch of at most 50 ms), so it is an upper bound of
 * twin change → DOM. Beside it: stream → DOM, from the moment a second event-stream client in the
 * bench process received the same change (so the server had sent it) to the page's drawing, on the
 * same wall clock; the page-only part, event received → drawn (one clock, the page's); and the work
 * of one frame (header, list rows, map, charts), which is what the page itself adds.
 * Twin change → DOM, timed directly: each node summary in the event stream carries `changedAt`, the
 * time the server's fleet view learned of the twin's change (same turn as the registry's change, on
 * the host's wall clock); the page's drawing time minus it, for every change the page drew.
 */
import { mkdirSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { openBrowser, startSim } from "../web/test/browser/harness.js";
import { percentile } from "./calibrate-table.js";
import { numArg, record } from "./record.js";

const wall = () => performance.timeOrigin + performance.now();

/**
 * A second event-stream client, in its own thread so that the bench's sets cannot delay its clock:
 * when each node change reached it, [id, on, wall ms]. `close()` stops it and hands over what it saw.
 */
function watchStream(url: string, token: string): { close: () => Promise<[string, boolean, number][]> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
    const seen = [];
    const abort = new AbortController();
    parentPort.on("message", () => { abort.abort(); parentPort.postMessage(seen); });
    (async () => {
      const res = await fetch(workerData.url, { headers: { Authorization: "Bearer " + workerData.token }, signal: abort.signal });
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of res.body) {
        const at = performance.timeOrigin + performance.now();
        buf += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buf.indexOf("\\n\\n")) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (!block.startsWith("event: nodes")) continue;
          for (const n of JSON.parse(block.slice(block.indexOf("data: ") + 6)).nodes) seen.push([n.id, n.on, at]);
        }
      }
    })().catch(() => {});`,
    { eval: true, workerData: { url, token } },
  );
  return {
    close: () =>
      new Promise((resolve) => {
        worker.once("message", (seen: [string, boolean, number][]) => {
          void worker.terminate();
          resolve(seen);
        });
        worker.postMessage("stop");
      }),
  };
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitOnline(api: (p: string) => Promise<Response>, nodes: number, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    // While thousands of nodes log in, the fleet's main thread can be too busy to answer in time.
    const r = (await api("api/nodes?online=true&limit=1")
      .then((res) => res.json())
      .catch(() => ({ total: -1 }))) as { total: number };
    if (r.total >= nodes) return;
    if (Date.now() > end) throw new Error(`only ${r.total} of ${nodes} nodes online after ${timeoutMs} ms`);
    await sleep(500);
  }
}

export async function webPage(argv: string[]): Promise<void> {
  if (argv.includes("--screenshots")) return screenshots();
  const nodes = numArg(argv, "--nodes", 5000);
  const rate = numArg(argv, "--rate", 100);
  const durationS = numArg(argv, "--duration", 20);
  const loads = numArg(argv, "--loads", 3);
  const sim = await startSim(nodes, ["--topology", "none"]);
  const browser = await openBrowser({ width: 1400, height: 900 });
  try {
    const startedOnline = Date.now();
    await waitOnline(sim.api, nodes, 180_000);
    const onlineMs = Date.now() - startedOnline;

    const firstRenderMs: number[] = [];
    let page = await browser.page();
    for (let i = 0; i < loads; i++) {
      if (i > 0) {
        await page.close();
        page = await browser.page();
      }
      await page.goto(sim.pageUrl);
      // In the page (strings: this project's types have no DOM).
      const count = nodes.toLocaleString("en-US");
      await page.waitForFunction(
        `performance.getEntriesByName("twinfleet-first-render").length > 0 &&
         document.getElementById("shown")?.textContent === "${count} of ${count} nodes"`,
        undefined,
        { timeout: 30_000 },
      );
      firstRenderMs.push(
        await page.evaluate(() => performance.getEntriesByName("twinfleet-first-render")[0]!.startTime),
      );
    }
    const rows = (await page.evaluate('document.querySelectorAll("#node-list .row").length')) as number;
    const visible = (await page.evaluate(`(() => {
      const list = document.getElementById("node-list").getBoundingClientRect();
      return [...document.querySelectorAll("#node-list .row:not([hidden])")]
        .filter((r) => r.getBoundingClientRect().top >= list.top && r.getBoundingClientRect().bottom <= list.bottom)
        .map((r) => ({ id: r.dataset.id, on: r.dataset.on === "true" }));
    })()`)) as { id: string; on: boolean }[];
    const pageOrigin = (await page.evaluate("performance.timeOrigin")) as number;
    await page.evaluate("window.twinfleetTimes.length = 0; window.twinfleetFrames.length = 0");

    const stream = watchStream(new URL("api/events", sim.origin).href, sim.token);
    await sleep(500);
    // Sets at `rate` per second, each scheduled on the wall clock so a slow answer does not slow the pace.
    const state = new Map(visible.map((v) => [v.id, v.on]));
    const sent: { id: string; on: boolean; at: number; answeredMs?: number; status?: number }[] = [];
    const total = Math.round(rate * durationS);
    const t0 = wall();
    const pending: Promise<void>[] = [];
    for (let k = 0; k < total; k++) {
      const due = t0 + (k * 1000) / rate;
      const wait = due - wall();
      if (wait > 0) await sleep(wait);
      const id = visible[k % visible.length]!.id;
      const on = !state.get(id);
      state.set(id, on);
      const s: (typeof sent)[number] = { id, on, at: wall() };
      sent.push(s);
      pending.push(
        sim
          .api(`api/nodes/${id}/state`, {
            method: "PUT",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ on }),
          })
          .then(async (r) => {
            s.status = r.status;
            s.answeredMs = wall() - s.at;
            await r.arrayBuffer();
          })
          .catch(() => {
            s.status = 0;
          }),
      );
    }
    await Promise.all(pending);
    await sleep(2000);
    const streamed = await stream.close();
    const frames = ((await page.evaluate("window.twinfleetFrames.slice()")) as number[]).sort(
      (a, b) => a - b,
    );
    const times = (await page.evaluate("window.twinfleetTimes")) as [
      string,
      boolean,
      number,
      number,
      number,
      number | null,
    ][];
    const byNode = new Map<string, { on: boolean; received: number; drawn: number }[]>();
    for (const [id, on, , received, drawn] of times) {
      const list = byNode.get(id) ?? [];
      list.push({ on, received: pageOrigin + received, drawn: pageOrigin + drawn });
      byNode.set(id, list);
    }
    const setToDom: number[] = [];
    const streamToDom: number[] = [];
    let missing = 0;
    for (const s of sent) {
      const hit = byNode.get(s.id)?.find((t) => t.on === s.on && t.received >= s.at);
      if (hit) setToDom.push(hit.drawn - s.at);
      else missing++;
      const got = streamed.find(([id, on, at]) => id === s.id && on === s.on && at >= s.at);
      if (hit && got) streamToDom.push(hit.drawn - got[2]);
    }
    setToDom.sort((a, b) => a - b);
    streamToDom.sort((a, b) => a - b);
    const receiveToDom = times.map(([, , , rec, drawn]) => drawn - rec).sort((a, b) => a - b);
    const twinToDom = times
      .flatMap(([, , , , drawn, changedAt]) =>
        typeof changedAt === "number" ? [pageOrigin + drawn - changedAt] : [],
      )
      .sort((a, b) => a - b);
    const answered = sent
      .flatMap((s) => (s.answeredMs === undefined ? [] : [s.answeredMs]))
      .sort((a, b) => a - b);
    const metrics = await (await sim.api("metrics")).text();
    const lag = [...metrics.matchAll(/^twinfleet_event_loop_lag_seconds\{([^}]*)\} (\S+)$/gm)].map(
      (m) => `${m[1]} ${r1(Number(m[2]) * 1000)} ms`,
    );
    record("web-page", {
      nodes,
      onlineAfterMs: onlineMs,
      firstRenderMs: firstRenderMs.map(r1),
      rowsInDom: rows,
      firstScreenNodes: visible.length,
      ratePerS: rate,
      durationS,
      sets: sent.length,
      answers: Object.fromEntries(
        [...new Set(sent.map((s) => s.status ?? -1))].map((c) => [
          c,
          sent.filter((s) => (s.status ?? -1) === c).length,
        ]),
      ),
      notSeen: missing,
      setToDomMs: {
        p50: r1(percentile(setToDom, 0.5)),
        p99: r1(percentile(setToDom, 0.99)),
        max: r1(setToDom.at(-1) ?? Number.NaN),
      },
      streamToDomMs: {
        p50: r1(percentile(streamToDom, 0.5)),
        p99: r1(percentile(streamToDom, 0.99)),
        n: streamToDom.length,
      },
      twinChangeToDomMs: {
        p50: r1(percentile(twinToDom, 0.5)),
        p99: r1(percentile(twinToDom, 0.99)),
        max: r1(twinToDom.at(-1) ?? Number.NaN),
        n: twinToDom.length,
      },
      receiveToDomMs: { p50: r1(percentile(receiveToDom, 0.5)), p99: r1(percentile(receiveToDom, 0.99)) },
      frameWorkMs: {
        p50: r1(percentile(frames, 0.5)),
        p99: r1(percentile(frames, 0.99)),
        frames: frames.length,
      },
      putAnsweredMs: { p50: r1(percentile(answered, 0.5)), p99: r1(percentile(answered, 0.99)) },
      eventLoopLag: lag,
    });
  } finally {
    await browser.close();
    await sim.stop();
  }
}

/** docs/web-fleet.png and docs/web-node.png: a 300-node sim with presses and a little loss. */
async function screenshots(): Promise<void> {
  const docs = fileURLToPath(new URL("../docs/", import.meta.url));
  mkdirSync(docs, { recursive: true });
  const sim = await startSim(300, ["--rate", "12", "--loss", "3", "--workers", "1"]);
  const browser = await openBrowser({ width: 1440, height: 900 });
  try {
    await waitOnline(sim.api, 300, 60_000);
    const page = await browser.page();
    await page.goto(sim.pageUrl);
    await page.locator("#shown").filter({ hasText: "300 of 300 nodes" }).waitFor();
    await sleep(25_000);
    await page.screenshot({ path: `${docs}web-fleet.png` });
    await page.goto(`${sim.origin}#/node/n-0010`);
    await page.locator("#node-version").waitFor();
    await sleep(1000);
    await page.screenshot({ path: `${docs}web-node.png` });
    console.log(`wrote ${docs}web-fleet.png and ${docs}web-node.png`);
  } finally {
    await browser.close();
    await sim.stop();
  }
}
