// The two charts, drawn as SVG: fleet convergence over time (a line, 0–100 %) and the sync-latency
// histogram with the paper's 1 s requirement as a vertical line.

import { ms, pct, s } from "./dom.js";

/** The charts' frame, the long range's too (minutes-chart.js: it takes the recent chart's place). */
export const W = 320;
export const H = 120;
export const PAD = { l: 34, r: 8, t: 8, b: 20 };

/** The grid lines at 0, 50 and 100 % with their labels, `y` placing a share. */
export const shareGrid = (y) =>
  [0, 0.5, 1].map((f) => [
    s("line", { x1: PAD.l, x2: W - PAD.r, y1: y(f), y2: y(f), class: "grid" }),
    s("text", { x: PAD.l - 4, y: y(f) + 4, class: "axis", "text-anchor": "end" }, `${f * 100}%`),
  ]);

/**
 * Convergence history [{t, fraction, known?, online?}] (t in ms on the fleet's clock) as a line over
 * the last `spanMs` to `now`, the last share held on to now. A point with `online: 0` had no follower
 * online: its fraction is the last-heard one (a fleet stopped reads 100 %), so the line breaks there
 * and the stretch until the next point (or now) is a shaded band, labelled `no follower online` while
 * it lasts; where the point's `unheard` followers (not heard since the broker restarted) are above 0
 * the band is one of its own, labelled `followers unheard`: they are not known to be gone. `away` are a live fleet's broker outages as the fleet view keeps them ([{from, to?}], `to`
 * absent while under way: view/live-faults.ts, the console's band too): nothing was heard then, so
 * the line breaks there too, the stretch is a band, labelled `broker away` while it lasts, and the
 * share from before holds on after it until the next point. A point with `stoppedUntil` marks a
 * restart of the twins service (its history kept in its data directory): the service was not
 * running from the point until then, so the line breaks there too and the stretch is a band of its
 * own, `twins service not running`, not the share before it drawn on as if measured.
 */
export function convergenceChart(all, now, away = [], spanMs = 5 * 60_000) {
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
  // The share (or the stretch with no follower online) from before the window holds on into it.
  const before = history.filter((p) => p.t < t0).at(-1);
  const carried = before ? [{ ...before, t: t0 }] : [];
  const shown = [...carried, ...history.filter((p) => p.t >= t0)];
  const outages = away.map((a) => ({ from: a.from, to: a.to ?? Number.POSITIVE_INFINITY }));
  const grid = shareGrid(y);
  const secs = Math.round(span / 1000);
  const last = shown.at(-1);
  const lost = outages.some((o) => o.to > t1);
  const noFollower = last !== undefined && unjudged(last);
  const label = [lost ? "broker away" : "", noFollower ? unjudgedWords(last) : ""].filter(Boolean).join(", ");
  return s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": chartLabel(history, label) },
    grid,
    runs(shown, outages, t1).map((run) => line(run, x, y)),
    // The last such point lasts until now: its band runs to the chart's right edge.
    shown.map((p, i) =>
      stopped(p)
        ? band(p.t, Math.min(p.stoppedUntil, shown[i + 1]?.t ?? p.stoppedUntil), x, ih, "stopped", STOPPED)
        : unjudged(p)
          ? unheard(p)
            ? band(p.t, shown[i + 1]?.t ?? Number.POSITIVE_INFINITY, x, ih, "unjudged unheard", UNHEARD)
            : band(p.t, shown[i + 1]?.t ?? Number.POSITIVE_INFINITY, x, ih, "unjudged", NO_FOLLOWER)
          : null,
    ),
    outages
      .filter((o) => o.to > t0 && o.from < t1)
      .map((o) => band(Math.max(o.from, t0), o.to, x, ih, "away", BROKER_AWAY)),
    label !== ""
      ? s(
          "text",
          { x: W - PAD.r - 2, y: PAD.t + 12, class: "axis unjudged-label", "text-anchor": "end" },
          label,
        )
      : null,
    s("text", { x: PAD.l, y: H - 4, class: "axis" }, secs > 0 ? `−${secs} s` : ""),
    s("text", { x: W - PAD.r, y: H - 4, class: "axis", "text-anchor": "end" }, "now"),
  );
}

const NO_FOLLOWER = "no follower online: the share there is the last-heard one";
const UNHEARD =
  "followers unheard: none heard since the broker restarted, the share there is the last-heard one";
const BROKER_AWAY = "broker away: nothing was heard, the share there was not measured";

const STOPPED = "twins service not running: nothing was measured (it restarted since)";

/** No follower was online at the point: its fraction judges nothing current. */
const unjudged = (p) => p.online === 0 && !stopped(p);

/** The point marks a stretch when the twins service was not running (a restart, from its kept history). */
const stopped = (p) => p.stoppedUntil !== undefined;

/** With none online, some followers were unheard at the point (a broker restart), not offline. */
const unheard = (p) => (p.unheard ?? 0) > 0;

/** What the label says of a point with no follower online. */
const unjudgedWords = (p) => (unheard(p) ? "followers unheard" : "no follower online");

/**
 * The runs of the line: consecutive points with a follower online (or no presence known: a sim),
 * in order, broken where none was and at each broker outage. A run holds its last share on to the
 * next point, to an outage's start, or to `now`; after an outage the share from before holds on from
 * its end (a point taken inside one is not drawn: nothing was heard then).
 */
function runs(points, outages, now) {
  const out = [];
  let run = [];
  /** The last share measured, and when it holds on again after the outage that cut it. */
  let held;
  let resume;
  let prev = Number.NEGATIVE_INFINITY;
  const close = () => {
    if (run.length > 0) out.push(run);
    run = [];
  };
  /** Holds the share from `prev` to `until`: each outage starting in that stretch cuts the line. */
  const hold = (until) => {
    const cutting = outages.filter((o) => o.from >= prev && o.from < until).sort((a, b) => a.from - b.from);
    for (const o of cutting) {
      if (resume !== undefined && o.from < resume) {
        resume = Math.max(resume, o.to);
        continue;
      }
      if (resume !== undefined) run.push({ ...held, t: resume });
      if (held !== undefined) run.push({ ...held, t: o.from });
      close();
      resume = held === undefined ? undefined : o.to;
    }
    if (resume !== undefined && resume < until) {
      run.push({ ...held, t: resume });
      resume = undefined;
    }
  };
  for (const p of points) {
    hold(p.t);
    prev = p.t;
    const inside = outages.find((o) => p.t > o.from && p.t < o.to);
    if (unjudged(p) || stopped(p)) {
      if (held !== undefined && resume === undefined) run.push({ ...held, t: p.t });
      close();
      held = undefined;
      resume = undefined;
    } else if (inside !== undefined) {
      close();
      held = p;
      resume = inside.to;
    } else {
      run.push(p);
      held = p;
      resume = undefined;
    }
  }
  hold(now);
  if (held !== undefined && resume === undefined && (run.at(-1)?.t ?? now) < now)
    run.push({ ...held, t: now });
  close();
  return out;
}

/**
 * One run: its area and line, or a dot for a lone point. The line is drawn in steps: each point is
 * the share from its time until the next (a change, or a sample), so it holds flat and moves upright
 * at the next point. A slant from one point to the next drew shares no one measured between them
 * (a fall from 100 % to 0 % over a minute, where the fleet was at 100 % until the last instant).
 */
function line(run, x, y) {
  const pts = run.flatMap((p, i) => {
    const at = `${x(p.t).toFixed(1)},${y(p.fraction).toFixed(1)}`;
    const prev = run[i - 1];
    return prev === undefined || prev.fraction === p.fraction
      ? [at]
      : [`${x(p.t).toFixed(1)},${y(prev.fraction).toFixed(1)}`, at];
  });
  if (run.length === 1) {
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

/** A stretch from `from` to `to` where no share is drawn: a band the plot's height, 4 px at least. */
function band(from, to, x, ih, cls, title) {
  const right = W - PAD.r;
  const a = Math.min(x(from), right - 4);
  const width = Math.max(4, Math.min(right, x(to)) - a);
  return s(
    "rect",
    { x: a.toFixed(1), y: PAD.t, width: width.toFixed(1), height: ih, class: cls },
    s("title", {}, title),
  );
}

/** The chart's words for a screen reader: the share now, or why there is none (`why`) and the last heard. */
function chartLabel(history, why) {
  const last = history.at(-1);
  if (!last) return "Fleet convergence: no data yet";
  if (why !== "") return `Fleet convergence over time, now ${why} (last heard ${pct(last.fraction)})`;
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
