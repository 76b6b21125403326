// The fleet page (#/): search and filters over every node, the virtualised node list, the fleet map,
// convergence and latency charts, and on a simulated fleet the loss control and fault buttons.

import { api, explain } from "./api.js";
import { convergenceChart, latencyChart } from "./charts.js";
import { h, int, ms, pct } from "./dom.js";
import { confirmAction, say } from "./ui.js";
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
        conv,
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
        convFig.textContent = pct(c.fraction);
        convSub.textContent = `${int(c.inSync)} of ${int(c.known)} followers hold their sources' newest state`;
        conv.replaceChildren(convergenceChart(c.history, c.t ?? c.history.at(-1)?.t));
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
        const fresh = store.log.slice(from + 1).slice(-30);
        lastLog = store.log.at(-1);
        for (const l of fresh)
          logBox.prepend(h("li", { class: `lvl-${l.level}` }, h("time", {}, clock(l.t)), " ", l.text));
        while (logBox.childElementCount > 30) logBox.lastElementChild.remove();
      }
    },
    destroy() {},
  };
}

function clock(t) {
  if (!Number.isFinite(t)) return "";
  const s = t / 1000;
  return s < 3600
    ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`
    : `${(s / 3600).toFixed(1)} h`;
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
  const key = `${n.id}|${n.on}|${n.online}|${n.kind}|${n.sync}|${n.version}`;
  if (row._key === key) return;
  row._key = key;
  const p = row._parts;
  p.a.href = `#/node/${encodeURIComponent(n.id)}`;
  p.a.setAttribute(
    "aria-label",
    `${n.id}: LED ${n.on ? "on" : "off"}, ${n.online ? "online" : "offline"}, ${n.kind ?? "not registered"}, ${SYNC_TEXT[n.sync] === "—" ? "not a follower" : SYNC_TEXT[n.sync]}`,
  );
  p.led.className = `led c-led ${n.on ? "on" : "off"}${n.online ? "" : " offline"}`;
  p.led.dataset.on = String(n.on);
  p.id.textContent = n.id;
  p.kind.textContent = n.kind ?? "?";
  p.kind.className = `c-kind badge kind-${n.kind ?? "unknown"}`;
  p.online.textContent = n.online ? "online" : "offline";
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

/** Every node of the filtered view as a small square on a canvas; click one to open it. */
function fleetMap(store) {
  const canvas = h("canvas", { class: "map", role: "img", "aria-label": "Fleet map: one square per node" });
  let ids = [];
  let cell = 8;
  let cols = 1;
  canvas.addEventListener("click", (e) => {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor((e.clientY - r.top) / cell) * cols + Math.floor((e.clientX - r.left) / cell);
    if (ids[i] && Math.floor((e.clientX - r.left) / cell) < cols)
      location.hash = `#/node/${encodeURIComponent(ids[i])}`;
  });
  canvas.addEventListener("mousemove", (e) => {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor((e.clientY - r.top) / cell) * cols + Math.floor((e.clientX - r.left) / cell);
    canvas.title = ids[i] ?? "";
  });
  // The colours come from the stylesheet; read again only when the colour scheme changes.
  let colors;
  const readColors = () => {
    const cs = getComputedStyle(document.documentElement);
    const v = (n) => cs.getPropertyValue(n).trim();
    colors = [v("--offline"), v("--led-off"), v("--led-on")];
    colors.oos = v("--bad");
  };
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    colors = undefined;
  });
  // What each cell shows now (offline 0, off 1, on 2; +3 out of sync; -1 not drawn): a frame
  // redraws only the cells whose node changed, unless the layout or the colours did.
  const box = h("div", { class: "map-box" }, canvas);
  let width = 0;
  new ResizeObserver((entries) => {
    const w = Math.floor(entries[0].contentRect.width);
    if (w === width) return;
    width = w;
    map.draw(ids);
  }).observe(box);
  let drawn = new Int8Array(0);
  let layout = "";
  let layoutView;
  const map = {
    el: box,
    draw(view) {
      ids = view;
      if (!width) width = box.clientWidth || 300;
      const n = Math.max(1, view.length);
      cell = Math.max(3, Math.min(14, Math.floor(Math.sqrt((width * 160) / n))));
      cols = Math.max(1, Math.floor(width / cell));
      const height = Math.max(cell, Math.ceil(n / cols) * cell);
      const dpr = window.devicePixelRatio || 1;
      const g = canvas.getContext("2d");
      const key = `${width}|${view.length}|${dpr}`;
      if (!colors || key !== layout || view !== layoutView) {
        if (!colors) readColors();
        layout = key;
        layoutView = view;
        canvas.width = Math.round(width * dpr);
        canvas.height = Math.round(height * dpr);
        canvas.style.width = `${width}px`;
        canvas.style.height = `${height}px`;
        drawn = new Int8Array(view.length).fill(-1);
      }
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      const gap = cell > 5 ? 1 : 0;
      const bar = Math.max(1, cell / 4);
      for (let i = 0; i < view.length; i++) {
        const node = store.nodes.get(view[i]);
        const base = !node.online ? 0 : node.on ? 2 : 1;
        const code = node.sync === "out-of-sync" ? base + 3 : base;
        if (drawn[i] === code) continue;
        drawn[i] = code;
        const x = (i % cols) * cell;
        const y = Math.floor(i / cols) * cell;
        g.fillStyle = colors[base];
        g.fillRect(x, y, cell - gap, cell - gap);
        if (code > 2) {
          g.fillStyle = colors.oos;
          g.fillRect(x, y + cell - gap - bar, cell - gap, bar);
        }
      }
    },
  };
  return map;
}

/** The loss control, fault buttons and query, as far as this fleet has them. */
function fillControls(box, fleet) {
  const cap = fleet?.capabilities ?? {};
  const parts = [h("h2", { id: "controls-h" }, "Controls")];
  if (cap.setLoss) {
    const input = h("input", {
      type: "number",
      id: "loss",
      min: 0,
      max: 100,
      step: 1,
      value: fleet.lossPct ?? 0,
    });
    parts.push(
      h(
        "form",
        {
          class: "inline",
          novalidate: true,
          onsubmit: async (e) => {
            e.preventDefault();
            const v = Number(input.value);
            if (!(input.value !== "" && v >= 0 && v <= 100))
              return say("Packet loss must be a number from 0 to 100.", "error");
            if (
              !(await confirmAction(
                "Change packet loss",
                `Set every link's packet loss to ${v} %?`,
                "Set loss",
              ))
            )
              return;
            await act(
              () => api("POST", "api/fleet/loss", { body: { pct: v } }),
              `Packet loss set to ${v} %.`,
            );
          },
        },
        h("label", { for: "loss" }, "Packet loss %"),
        input,
        h("button", { type: "submit" }, "Apply"),
      ),
    );
  }
  const fault = (flag, label, body, question, fields) => {
    if (!cap[flag]) return;
    const inputs = fields.map(([key, text, value, min, max, step]) => ({
      key,
      input: h("input", {
        type: "number",
        id: `f-${body.kind}-${key}`,
        value,
        min,
        max,
        step,
        "aria-label": text,
      }),
      text,
    }));
    parts.push(
      h(
        "form",
        {
          class: "inline fault",
          novalidate: true,
          onsubmit: async (e) => {
            e.preventDefault();
            const b = { ...body };
            for (const { key, input, text } of inputs) {
              const v = Number(input.value);
              if (input.value === "" || !(v >= Number(input.min) && v <= Number(input.max)))
                return say(`${label}: ${text} must be from ${input.min} to ${input.max}.`, "error");
              b[key] = v;
            }
            if (!(await confirmAction(label, question(b), label))) return;
            await act(() => api("POST", "api/fleet/faults", { body: b }), `${label} started.`);
          },
        },
        h("button", { type: "submit", class: "danger" }, label),
        inputs.map(({ input, text }) => h("label", { class: "mini" }, input, h("span", {}, text))),
      ),
    );
  };
  fault(
    "powerOutage",
    "Power outage",
    { kind: "power-outage" },
    (b) => `Cut the power of every node for ${b.offS} s?`,
    [["offS", "s off", 10, 1, 3600, 1]],
  );
  fault(
    "restartBroker",
    "Broker restart",
    { kind: "broker-restart" },
    (b) => `Kill the broker and start it again after ${b.downS} s?`,
    [["downS", "s down", 5, 1, 3600, 1]],
  );
  fault(
    "partition",
    "Partition",
    { kind: "partition" },
    (b) => `Cut ${Math.round(b.fraction * 100)} % of the nodes off the network for ${b.forS} s?`,
    [
      ["fraction", "fraction", 0.25, 0.01, 1, 0.01],
      ["forS", "s", 20, 1, 3600, 1],
    ],
  );
  if (cap.query)
    parts.push(
      h(
        "button",
        {
          type: "button",
          class: "ghost",
          onclick: () => act(() => api("POST", "api/query"), "Query sent: every node will register again."),
        },
        "Query the fleet (Q1)",
      ),
    );
  if (fleet?.faults?.length)
    parts.push(h("p", { class: "faults-now" }, "Under way: ", fleet.faults.map((x) => x.what).join(", ")));
  if (parts.length === 1) parts.push(h("p", { class: "sub" }, "This fleet offers no fleet-wide actions."));
  box.replaceChildren(...parts);
}

async function act(fn, okText) {
  try {
    await fn();
    say(okText);
  } catch (e) {
    say(explain(e), "error");
  }
}
