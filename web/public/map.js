// The fleet map: every node of the filtered list as one small square on a canvas (on, off, offline,
// out of sync), redrawn cell by cell as nodes change; a click opens the node.

import { h } from "./dom.js";

/**
 * How many times the colour scheme changed: each map reads its colours again when it moved. One
 * listener for the page, not one per map: a listener on a MediaQueryList lives as long as the
 * document, and held each map's canvas and, through it, the whole fleet page it was drawn in, so
 * every visit to a node page and back kept one more copy of the fleet page in memory.
 */
let scheme = 0;
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  scheme++;
});

/** Every node of the filtered view as a small square on a canvas; click one to open it. */
export function fleetMap(store) {
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
  let colorsOf = -1;
  const readColors = () => {
    const cs = getComputedStyle(document.documentElement);
    const v = (n) => cs.getPropertyValue(n).trim();
    colors = [v("--offline"), v("--led-off"), v("--led-on")];
    colors.oos = v("--bad");
    colorsOf = scheme;
  };
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
      if (colorsOf !== scheme || key !== layout || view !== layoutView) {
        if (colorsOf !== scheme) readColors();
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
