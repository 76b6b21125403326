// The two charts, drawn as SVG: fleet convergence over time (a line, 0–100 %) and the sync-latency
// histogram with the paper's 1 s requirement as a vertical line.

import { ms, pct, s } from "./dom.js";

const W = 320;
const H = 120;
const PAD = { l: 34, r: 8, t: 8, b: 20 };

/**
 * Convergence history [{t, fraction, known?, online?}] (t in ms on the fleet's clock) as a line over
 * the last `spanMs`. A point with `online: 0` had no follower online: its fraction is the last-heard
 * one (a fleet stopped reads 100 %), so the line breaks there and the stretch until the next point
 * (or now) is a shaded band, labelled `no follower online` while it lasts.
 */
export function convergenceChart(all, now, spanMs = 5 * 60_000) {
  // A point taken with no follower known says nothing of sync (its fraction is 1 by convention).
  const history = all.filter((p) => p.known !== 0);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const t1 = Math.max(now ?? 0, history.at(-1)?.t ?? 0);
  const first = history[0]?.t ?? t1;
  const t0 = Math.max(first, t1 - spanMs);
  const span = Math.max(1, t1 - t0);
  const x = (t) => PAD.l + ((t - t0) / span) * iw;
  const y = (f) => PAD.t + (1 - f) * ih;
  // A stretch with no follower online that began before the window still lasts into it.
  const before = history.filter((p) => p.t < t0).at(-1);
  const carried = before && unjudged(before) ? [{ ...before, t: t0 }] : [];
  const shown = [...carried, ...history.filter((p) => p.t >= t0)];
  const grid = [0, 0.5, 1].map((f) => [
    s("line", { x1: PAD.l, x2: W - PAD.r, y1: y(f), y2: y(f), class: "grid" }),
    s("text", { x: PAD.l - 4, y: y(f) + 4, class: "axis", "text-anchor": "end" }, `${f * 100}%`),
  ]);
  const secs = Math.round(span / 1000);
  const last = shown.at(-1);
  return s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": chartLabel(history) },
    grid,
    runs(shown).map((run) => line(run, x, y)),
    // The last such point lasts until now: its band runs to the chart's right edge.
    shown.map((p, i) => (unjudged(p) ? band(p.t, shown[i + 1]?.t ?? Number.POSITIVE_INFINITY, x, ih) : null)),
    last && unjudged(last)
      ? s(
          "text",
          { x: W - PAD.r - 2, y: PAD.t + 12, class: "axis unjudged-label", "text-anchor": "end" },
          "no follower online",
        )
      : null,
    s("text", { x: PAD.l, y: H - 4, class: "axis" }, secs > 0 ? `−${secs} s` : ""),
    s("text", { x: W - PAD.r, y: H - 4, class: "axis", "text-anchor": "end" }, "now"),
  );
}

/** No follower was online at the point: its fraction judges nothing current. */
const unjudged = (p) => p.online === 0;

/** The runs of consecutive points with a follower online (or no presence known: a sim), in order. */
function runs(points) {
  const out = [];
  let run = [];
  for (const p of points) {
    if (!unjudged(p)) run.push(p);
    else if (run.length > 0) {
      out.push(run);
      run = [];
    }
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** One run: its area and line, or a dot for a lone point. */
function line(run, x, y) {
  const pts = run.map((p) => `${x(p.t).toFixed(1)},${y(p.fraction).toFixed(1)}`);
  if (pts.length === 1) {
    const [cx, cy] = pts[0].split(",");
    return s("circle", { cx, cy, r: 3, class: "dot" });
  }
  const floor = y(0);
  return [
    s("polygon", {
      class: "area",
      points: `${x(run[0].t).toFixed(1)},${floor} ${pts.join(" ")} ${x(run.at(-1).t).toFixed(1)},${floor}`,
    }),
    s("polyline", { points: pts.join(" "), class: "line" }),
  ];
}

/** The stretch from `from` to `to` with no follower online: a band the plot's height, 4 px at least. */
function band(from, to, x, ih) {
  const right = W - PAD.r;
  const a = Math.min(x(from), right - 4);
  const width = Math.max(4, Math.min(right, x(to)) - a);
  return s(
    "rect",
    { x: a.toFixed(1), y: PAD.t, width: width.toFixed(1), height: ih, class: "unjudged" },
    s("title", {}, "no follower online: the share there is the last-heard one"),
  );
}

function chartLabel(history) {
  const last = history.at(-1);
  if (!last) return "Fleet convergence: no data yet";
  if (unjudged(last))
    return `Fleet convergence over time, now no follower online (last heard ${pct(last.fraction)})`;
  return `Fleet convergence over time, now ${pct(last.fraction)}`;
}

/** The latency histogram: bars per bucket up to a little past 1 s (or the p99), the 1 s line, p50/p99. */
export function latencyChart(lat) {
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  if (!lat || lat.count === 0 || !lat.buckets?.length)
    return s(
      "svg",
      {
        viewBox: `0 0 ${W} ${H}`,
        class: "chart",
        role: "img",
        "aria-label": "Sync latency: no deliveries yet",
      },
      s("text", { x: W / 2, y: H / 2, class: "axis", "text-anchor": "middle" }, "no deliveries measured yet"),
    );
  const bw = lat.bucketMs;
  const spanMs = Math.min(lat.buckets.length * bw, Math.max(1250, (lat.p99Ms ?? 0) * 1.2));
  const n = Math.max(1, Math.ceil(spanMs / bw));
  const shown = lat.buckets.slice(0, n);
  const beyond = lat.buckets.slice(n).reduce((a, b) => a + b, 0) + (lat.overflow ?? 0);
  const max = Math.max(1, ...shown, beyond);
  const x = (t) => PAD.l + (t / (n * bw)) * iw;
  const bars = shown.map((c, i) => {
    const h = c === 0 ? 0 : Math.max(1, Math.sqrt(c / max) * ih);
    return s("rect", {
      x: x(i * bw),
      y: PAD.t + ih - h,
      width: Math.max(0.5, x(bw) - x(0) - 0.5),
      height: h,
      class: i * bw >= 1000 ? "bar late" : "bar",
    });
  });
  const sec = x(1000);
  return s(
    "svg",
    {
      viewBox: `0 0 ${W} ${H}`,
      class: "chart",
      role: "img",
      "aria-label": `Sync latency histogram of ${lat.count} deliveries: p50 ${ms(lat.p50Ms)}, p99 ${ms(lat.p99Ms)}, ${beyond} beyond the chart`,
    },
    s("line", { x1: PAD.l, x2: W - PAD.r, y1: PAD.t + ih, y2: PAD.t + ih, class: "grid" }),
    bars,
    sec <= W - PAD.r
      ? [
          s("line", { x1: sec, x2: sec, y1: PAD.t, y2: PAD.t + ih, class: "limit" }),
          s("text", { x: sec - 3, y: PAD.t + 10, class: "axis limit-label", "text-anchor": "end" }, "1 s"),
        ]
      : null,
    s("text", { x: PAD.l, y: H - 4, class: "axis" }, "0"),
    s("text", { x: W - PAD.r, y: H - 4, class: "axis", "text-anchor": "end" }, ms(n * bw)),
    s("text", { x: PAD.l - 4, y: PAD.t + 8, class: "axis", "text-anchor": "end" }, "√n"),
  );
}
