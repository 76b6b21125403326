// The fleet page (#/): search and filters over every node, the virtualised node list, the fleet map,
// convergence and latency charts, and on a simulated fleet the loss control and fault buttons.

import { api, explain } from "./api.js";
import { convergenceChart, latencyChart } from "./charts.js";
import { fillControls } from "./controls.js";
import { h, int, logTime, ms, syncDetail, syncShare, waitsText } from "./dom.js";
import { fleetMap } from "./map.js";
import { minutesChart, minutesSummary } from "./minutes-chart.js";
import { VirtualList } from "./vlist.js";

const ROW = 40;
const SYNC_TEXT = { "in-sync": "in sync", "out-of-sync": "out of sync", unknown: "—" };

export function fleetPage(store) {
  const f = store.filter;
  const search = h("input", {
    type: "search",
    id: "q",
    placeholder: "Search node id…",
    value: f.q,
    autocomplete: "off",
    spellcheck: "false",
    oninput: (e) => store.setFilter({ q: e.target.value }),
  });
  const select = (key, label, options) =>
    h(
      "label",
      { class: "field" },
      h("span", {}, label),
      h(
        "select",
        { id: `filter-${key}`, onchange: (e) => store.setFilter({ [key]: e.target.value }) },
        options.map(([v, t]) => h("option", { value: v, selected: f[key] === v }, t)),
      ),
    );
  const shown = h("span", { class: "shown", "aria-live": "polite", id: "shown" });
  const list = new VirtualList({
    rowHeight: ROW,
    label: "Nodes",
    createRow,
    fillRow: (row, id) => fillRow(row, store.nodes.get(id)),
    focusTarget: (row) => row.firstChild,
  });
  list.el.id = "node-list";
  const map = fleetMap(store);
  const conv = h("div", { class: "chart-box" });
  const range = rangeSwitch(conv);
  const convFig = h("strong", { class: "big" });
  const convSub = h("span", { class: "sub" });
  const lat = h("div", { class: "chart-box" });
  const latFig = h("span", { class: "sub" });
  const logBox = h("ol", { class: "log", "aria-label": "Fleet events" });
  const controls = h("section", { class: "card controls", "aria-labelledby": "controls-h" });

  const el = h(
    "main",
    { class: "fleet-page", id: "main" },
    h(
      "section",
      { class: "list-pane", "aria-label": "Node list" },
      h(
        "div",
        { class: "filters", role: "search" },
        h("label", { class: "field grow" }, h("span", {}, "Search"), search),
        select("kind", "Kind", [
          ["", "any"],
          ["sim", "simulated"],
          ["real", "real board"],
          ["host", "host stand-in"],
          ["unknown", "not registered"],
        ]),
        select("online", "Presence", [
          ["", "any"],
          ["true", "online"],
          ["false", "offline"],
        ]),
        select("sync", "Sync", [
          ["", "any"],
          ["in-sync", "in sync"],
          ["out-of-sync", "out of sync"],
          ["unknown", "not a follower"],
        ]),
        shown,
      ),
      h(
        "div",
        { class: "list-head", "aria-hidden": "true" },
        h("span", { class: "c-led" }, "LED"),
        h("span", { class: "c-id" }, "Node"),
        h("span", { class: "c-kind" }, "Kind"),
        h("span", { class: "c-online" }, "Presence"),
        h("span", { class: "c-sync" }, "Sync"),
        h("span", { class: "c-ver" }, "Version"),
      ),
      list.el,
    ),
    h(
      "aside",
      { class: "side" },
      h(
        "section",
        { class: "card", "aria-labelledby": "conv-h" },
        h("div", { class: "card-head" }, h("h2", { id: "conv-h" }, "Convergence"), convFig),
        convSub,
        range.el,
        conv,
        range.long,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "lat-h" },
        h("div", { class: "card-head" }, h("h2", { id: "lat-h" }, "Sync latency"), latFig),
        lat,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "map-h" },
        h("div", { class: "card-head" }, h("h2", { id: "map-h" }, "Fleet map"), mapLegend()),
        map.el,
      ),
      controls,
      h("section", { class: "card", "aria-labelledby": "log-h" }, h("h2", { id: "log-h" }, "Events"), logBox),
    ),
  );

  let lastFleet;
  let lastConv;
  let lastLat;
  let lastLog;
  let lastView;
  return {
    el,
    render() {
      const view = store.view();
      if (view !== lastView) {
        list.setItems(view);
        lastView = view;
      }
      list.draw();
      const shownText = `${int(view.length)} of ${int(store.ids.length)} nodes`;
      if (shown.textContent !== shownText) shown.textContent = shownText;
      map.draw(view);
      if (store.convergence !== lastConv) {
        lastConv = store.convergence;
        const c = store.convergence;
        convFig.textContent = syncShare(c);
        convSub.textContent = syncDetail(c);
        conv.replaceChildren(convergenceChart(c.history, c.t ?? c.history.at(-1)?.t, c.away));
      }
      if (store.latency !== lastLat) {
        lastLat = store.latency;
        const l = store.latency;
        latFig.textContent = l?.count ? `p50 ${ms(l.p50Ms)} · p99 ${ms(l.p99Ms)}` : "";
        lat.replaceChildren(latencyChart(l), h("p", { class: "sub" }, l ? `${int(l.count)} deliveries` : ""));
      }
      if (store.fleet !== lastFleet) {
        lastFleet = store.fleet;
        fillControls(controls, store.fleet);
      }
      if (store.log.at(-1) !== lastLog) {
        // Only the new lines are added (newest first); the list keeps the last 30.
        const from = lastLog === undefined ? -1 : store.log.lastIndexOf(lastLog);
        // Lines the server kept replaced the page's (a stream opened again): all are drawn anew.
        if (from < 0) logBox.replaceChildren();
        const fresh = store.log.slice(from + 1).slice(-30);
        lastLog = store.log.at(-1);
        for (const l of fresh)
          logBox.prepend(h("li", { class: `lvl-${l.level}` }, h("time", {}, logTime(l.t)), " ", l.text));
        while (logBox.childElementCount > 30) logBox.lastElementChild.remove();
      }
    },
    destroy() {
      range.stop();
    },
  };
}

/** How often the long range is fetched again while shown: a minute point closes once a minute. */
const MINUTES_EVERY_MS = 30_000;

/**
 * The convergence chart's range: the last minutes (the live chart, `recent`) or the last 48 h (the
 * twins service's minutes from /api/convergence/minutes, fetched when chosen and every 30 s while
 * shown). A fleet with no twins service (the demo) says it keeps none.
 */
function rangeSwitch(recent) {
  const long = h("div", { class: "chart-box", id: "conv-long", hidden: true });
  let timer;
  let shown = "recent";
  const load = async () => {
    try {
      const { data: d } = await api("GET", "api/convergence/minutes");
      if (shown !== "long") return;
      long.replaceChildren(
        minutesChart(d),
        h("p", { class: "sub", id: "conv-long-says" }, minutesSummary(d)),
      );
    } catch (err) {
      if (shown === "long")
        long.replaceChildren(h("p", { class: "sub", id: "conv-long-says" }, explain(err)));
    }
  };
  const buttons = [
    ["recent", "last minutes"],
    ["long", "last 48 h"],
  ].map(([key, text]) =>
    h(
      "button",
      { type: "button", "data-range": key, "aria-pressed": String(key === shown), onclick: () => pick(key) },
      text,
    ),
  );
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  const pick = (key) => {
    shown = key;
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.range === key));
    recent.hidden = key !== "recent";
    long.hidden = key !== "long";
    stop();
    if (key !== "long") return;
    long.replaceChildren(h("p", { class: "sub", id: "conv-long-says" }, "loading the last 48 h…"));
    void load();
    timer = setInterval(load, MINUTES_EVERY_MS);
  };
  const el = h("div", { class: "range", role: "group", "aria-label": "Convergence range" }, buttons);
  return { el, long, stop };
}

function createRow() {
  const led = h("span", { class: "led c-led" });
  const id = h("span", { class: "c-id mono" });
  const kind = h("span", { class: "c-kind badge" });
  const online = h("span", { class: "c-online" });
  const sync = h("span", { class: "c-sync badge" });
  const ver = h("span", { class: "c-ver mono" });
  const a = h("a", { class: "row-link" }, led, id, kind, online, sync, ver);
  const row = h("div", { class: "row" }, a);
  row._parts = { a, led, id, kind, online, sync, ver };
  return row;
}

function fillRow(row, n) {
  if (!n) return;
  const key = `${n.id}|${n.on}|${n.online}|${n.kind}|${n.sync}|${n.version}|${n.waits}`;
  if (row._key === key) return;
  row._key = key;
  const p = row._parts;
  p.a.href = `#/node/${encodeURIComponent(n.id)}`;
  p.a.setAttribute(
    "aria-label",
    `${n.id}: LED ${n.on ? "on" : "off"}, ${presenceText(n)}${n.waits ? `, ${waitsText(n.waits)}` : ""}, ${n.kind ?? "not registered"}, ${SYNC_TEXT[n.sync] === "—" ? "not a follower" : SYNC_TEXT[n.sync]}`,
  );
  p.led.className = `led c-led ${n.on ? "on" : "off"}${n.online ? "" : " offline"}`;
  p.led.dataset.on = String(n.on);
  p.id.textContent = n.id;
  p.kind.textContent = n.kind ?? "?";
  p.kind.className = `c-kind badge kind-${n.kind ?? "unknown"}`;
  // An offline node with a set or a pairing kept for its return says so under `offline`.
  if (n.waits) p.online.replaceChildren("offline", h("span", { class: "waits" }, `${n.waits} waits`));
  else p.online.textContent = presenceText(n);
  p.online.title = n.waits ? waitsText(n.waits) : n.unheard ? UNHEARD_TITLE : "";
  p.online.className = `c-online ${n.online ? "is-online" : "is-offline"}`;
  p.sync.textContent = SYNC_TEXT[n.sync] ?? n.sync;
  p.sync.className = `c-sync badge sync-${n.sync}`;
  p.ver.textContent = `v${n.version}`;
  row.dataset.id = n.id;
  row.dataset.on = String(n.on);
}

function mapLegend() {
  const item = (cls, text) => h("span", { class: "legend-item" }, h("i", { class: `swatch ${cls}` }), text);
  return h(
    "span",
    { class: "legend" },
    item("on", "on"),
    item("off", "off"),
    item("offline", "offline"),
    item("oos", "out of sync"),
  );
}

/** A node online only by the status a broker that restarted since kept (`unheard`: docs/web.md). */
const UNHEARD_TITLE =
  "online only by the status the broker kept through its restart; counted online once it is heard, offline when its will comes";

/** The list's presence cell: online, offline, or not heard since the broker restarted. */
function presenceText(n) {
  if (n.unheard) return "not heard since the broker restarted";
  return n.online ? "online" : "offline";
}
