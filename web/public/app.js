// The page's entry: takes the token from the address, connects the event stream to the store,
// routes between the fleet page (#/) and the node page (#/node/ID), draws the shared header (with a
// virtual-time run's pace and its controls), and redraws the current page once per animation frame
// after a change. It also keeps a bounded record of when each change arrived and when it was drawn
// (window.twinfleetTimes), which the benchmark reads.

import { api, events, explain, takeToken } from "./api.js";
import { brokerAway, h, int, syncShare } from "./dom.js";
import { fleetPage } from "./fleet.js";
import { nodePage } from "./node.js";
import { paceControls, paceText } from "./pace.js";
import { staleNote } from "./stale.js";
import { Store } from "./store.js";
import { noticeArea, say } from "./ui.js";

takeToken();
const store = new Store();
/**
 * [id, on, version, receivedAt, drawnAt, changedAt] per change: receivedAt and drawnAt in ms on
 * performance.now(), changedAt the server's time of the twin's change (ms since the Unix epoch) or
 * undefined; bounded.
 */
const times = [];
window.twinfleetTimes = times;
window.twinfleetStore = store;

const title = h("span", { class: "title", id: "fleet-title" }, "twinfleet");
const kind = h("span", { class: "badge kind" });
const live = h("span", { class: "live", id: "live", role: "status" }, "connecting…");
/** What the header says of the event stream (web/public/api.js `events`); the reason is its title. */
const LIVE_TEXT = {
  open: "live",
  reconnecting: "reconnecting…",
  busy: "server busy · retrying",
  closed: "disconnected · retrying",
  paused: "paused while hidden",
};
const stats = h("dl", { class: "stats", id: "stats" });
const pace = paceControls();
const header = h(
  "header",
  { class: "top" },
  h("a", { class: "skip", href: "#main", onclick: skipToMain }, "Skip to content"),
  h(
    "div",
    { class: "brand" },
    h(
      "a",
      { href: "#/", class: "logo", "aria-label": "Fleet page" },
      h("span", { class: "led on", "aria-hidden": "true" }),
    ),
    title,
    kind,
    live,
  ),
  pace.el,
  stats,
);
const outlet = h("div", { class: "outlet" });
const stale = staleNote();
document.body.replaceChildren(header, stale.el, noticeArea(), outlet);

function skipToMain(e) {
  e.preventDefault();
  document.getElementById("main")?.setAttribute("tabindex", "-1");
  document.getElementById("main")?.focus();
}

let page;
let pageKey;
function route(ev) {
  const m = /^#\/node\/(.+)$/.exec(location.hash);
  const key = m ? `node:${decodeURIComponent(m[1])}` : "fleet";
  if (key === pageKey) return;
  page?.destroy();
  pageKey = key;
  page = m ? nodePage(store, decodeURIComponent(m[1])) : fleetPage(store);
  outlet.replaceChildren(page.el);
  // A new page takes the focus (as a page load would), so keyboard and screen-reader users start on it.
  if (ev) {
    page.el.setAttribute("tabindex", "-1");
    page.el.focus({ preventScroll: true });
  }
  document.title = m
    ? `${decodeURIComponent(m[1])} · twinfleet`
    : `${store.fleet?.title ?? "Fleet"} · twinfleet`;
  frame();
}
window.addEventListener("hashchange", route);

let scheduled = false;
let firstRendered = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(frame);
}
store.subscribe(schedule);

/** How long each frame's own work took (ms), bounded: the page's share of a change's latency. */
const frames = [];
window.twinfleetFrames = frames;

function frame() {
  scheduled = false;
  const start = performance.now();
  drawHeader();
  page?.render();
  const drawn = performance.now();
  frames.push(drawn - start);
  if (frames.length > 10_000) frames.splice(0, frames.length - 10_000);
  for (const [id, on, version, received, changedAt] of store.pendingTimes)
    times.push([id, on, version, received, drawn, changedAt]);
  store.pendingTimes.length = 0;
  if (times.length > 50_000) times.splice(0, times.length - 50_000);
  if (
    !firstRendered &&
    store.ids.length > 0 &&
    pageKey === "fleet" &&
    document.querySelector(".row:not([hidden])")
  ) {
    firstRendered = true;
    performance.mark("twinfleet-first-render");
  }
}

/** The header's figures: one chip per figure, built once; a frame only changes the texts that moved. */
const chips = new Map();
function chip(key, label, value, cls) {
  let c = chips.get(key);
  if (!c) {
    const dd = h("dd");
    c = { el: h("div", { class: "stat", id: `stat-${key}` }, h("dt", {}, label), dd), dd };
    chips.set(key, c);
    stats.append(c.el);
  }
  c.el.hidden = value === undefined;
  if (value !== undefined && c.dd.textContent !== value) c.dd.textContent = value;
  const className = `stat ${cls}`;
  if (c.el.className !== className) c.el.className = className;
}

function drawHeader() {
  const f = store.fleet;
  const t = f?.title ?? "twinfleet";
  if (title.textContent !== t) title.textContent = t;
  if (kind.textContent !== (f?.kind ?? "")) kind.textContent = f?.kind ?? "";
  kind.hidden = !f;
  const c = store.counts();
  const faults = f?.faults ?? [];
  const sync = store.convergence.fraction;
  chip("nodes", "nodes", int(c.total), "");
  // While the broker is away nothing is heard: the count is the one from before it.
  const lastHeard = brokerAway(store.convergence);
  chip(
    "online",
    "online",
    `${int(c.online)}${lastHeard ? " as last heard" : ""}`,
    c.online < c.total ? "warn" : "",
  );
  chip("on", "LED on", int(c.on), "");
  // Nothing to judge: no follower known, none online (each judged by its last report), or the broker away.
  const known =
    store.convergence.known > 0 && store.convergence.online !== 0 && !brokerAway(store.convergence);
  chip("sync", "in sync", syncShare(store.convergence), !known ? "" : sync < 1 ? "warn" : "good");
  const kinds = [
    c.real && `${int(c.real)} real`,
    c.sim && `${int(c.sim)} sim`,
    c.host && `${int(c.host)} host`,
  ];
  chip("kinds", "kinds", kinds.filter(Boolean).join(" · ") || "–", "");
  const loss = f?.lossPct;
  chip("loss", "loss", loss === null || loss === undefined ? undefined : `${loss} %`, loss > 0 ? "warn" : "");
  // A run on virtual time: how far it has got, at what pace (the controls beside the stats set it).
  const p = f?.pace;
  chip("virtual", "virtual time", p ? paceText(f.now, p) : undefined, p?.paused ? "warn" : "");
  pace.render(f);
  chip(
    "faults",
    "faults",
    faults.length ? faults.map((x) => x.what).join(", ") : "none",
    faults.length ? "bad" : "",
  );
}

async function reloadNodes() {
  try {
    const r = await api("GET", "api/nodes");
    store.reset(r.data.nodes);
  } catch (e) {
    say(`Could not load the nodes: ${explain(e)}`, "error");
  }
}

async function loadCharts() {
  const [c, l] = await Promise.allSettled([api("GET", "api/convergence"), api("GET", "api/latency")]);
  if (c.status === "fulfilled") store.setConvergence(c.value.data);
  if (l.status === "fulfilled") store.setLatency(l.value.data);
}

events(
  {
    hello: (d) => {
      store.streamBegan();
      store.setFleet(d.fleet);
      store.setLog(d.log ?? []);
      if (pageKey === "fleet") document.title = `${d.fleet.title} · twinfleet`;
      void reloadNodes();
      void loadCharts();
    },
    nodes: (d) => store.apply(d.nodes, performance.now(), d.gone),
    convergence: (d) => store.setConvergence(d),
    latency: (d) => store.setLatency(d),
    fleet: (d) => store.setFleet(d),
    clock: (d) => store.setClock(d),
    log: (d) => store.addLog(d),
  },
  (state, detail) => {
    live.textContent = LIVE_TEXT[state] ?? state;
    live.title = detail ?? "";
    live.className = `live ${state}`;
    stale.set(state, detail);
  },
);
route();
