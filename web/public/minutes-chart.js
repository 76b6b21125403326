// The convergence chart's long range: the twins service's minutes (/api/convergence/minutes), one a
// minute for 48 h, each its lowest in-sync share (a dip of seconds is not averaged away), with bands
// where the broker was away or the service not running, and a line saying the lowest and when.

import { H, PAD, shareGrid, W } from "./charts.js";
import { pct, s } from "./dom.js";

/** A time on the history's clock: a date's UTC hour and minute, or hours since the start (virtual time). */
function minuteClock(t) {
  if (t > 1e12) return `${new Date(t).toISOString().slice(11, 16)} UTC`;
  const m = Math.floor(t / 60_000);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")}`;
}

/** Runs of consecutive minutes with `flag`, as [from, to) spans. */
function spans(minutes, flag, minuteMs) {
  const out = [];
  for (const m of minutes) {
    if (!m[flag]) continue;
    const last = out.at(-1);
    if (last !== undefined && last.to === m.t) last.to = m.t + minuteMs;
    else out.push({ from: m.t, to: m.t + minuteMs });
  }
  return out;
}

/** What the long range says in words: the lowest share and when, and the minutes away or down. */
export function minutesSummary(d) {
  // A minute in which nodes were joining says how far registration had got, not the fleet's sync.
  const measured = d.minutes.filter((m) => m.fraction !== undefined);
  const judged = measured.filter((m) => !m.joining);
  const away = d.minutes.filter((m) => m.away).length;
  const down = d.minutes.filter((m) => m.down).length;
  const parts = [];
  if (judged.length === 0)
    parts.push(measured.length > 0 ? "nothing judged yet: nodes joining" : "nothing judged yet");
  else {
    const low = judged.reduce((a, b) => (b.fraction < a.fraction ? b : a));
    parts.push(`lowest ${pct(low.fraction)} (${low.inSync} of ${low.known}) at ${minuteClock(low.t)}`);
  }
  if (away > 0) parts.push(`broker away in ${away} min`);
  if (down > 0) parts.push(`twins service not running in ${down} min`);
  return parts.join("; ");
}

/** A span of time as the axis says it: hours from 2 h, minutes below. */
const spanWords = (ms) =>
  ms >= 2 * 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : `${Math.round(ms / 60_000)} min`;

/**
 * The minutes `d` ({minuteMs, kept, t, minutes}) from the first one kept to `d.t`, at most the last
 * `kept` minutes: a history of half an hour fills the chart, not a sliver at the right of 48 h.
 */
export function minutesChart(d) {
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const t1 = Math.max(d.t, (d.minutes.at(-1)?.t ?? 0) + d.minuteMs);
  const t0 = Math.max(t1 - d.kept * d.minuteMs, Math.min(d.minutes[0]?.t ?? t1, t1 - 10 * d.minuteMs));
  const x = (t) => PAD.l + ((Math.max(t, t0) - t0) / (t1 - t0)) * iw;
  const y = (f) => PAD.t + (1 - f) * ih;
  const grid = shareGrid(y);
  // A minute is drawn as a step at its lowest share; one with nothing judged breaks the line, as
  // does one in which nodes were joining (its share says how far registration had got).
  const runs = [];
  let run = [];
  for (const m of d.minutes) {
    if (m.fraction === undefined || m.joining) {
      if (run.length > 0) runs.push(run);
      run = [];
      continue;
    }
    run.push(`${x(m.t)},${y(m.fraction)}`, `${x(m.t + d.minuteMs)},${y(m.fraction)}`);
  }
  if (run.length > 0) runs.push(run);
  const band = (span, cls, words) =>
    s(
      "rect",
      { x: x(span.from), y: PAD.t, width: Math.max(1, x(span.to) - x(span.from)), height: ih, class: cls },
      s("title", {}, `${words} ${minuteClock(span.from)} – ${minuteClock(span.to)}`),
    );
  const span = t1 - t0;
  return s(
    "svg",
    {
      viewBox: `0 0 ${W} ${H}`,
      class: "chart minutes",
      role: "img",
      "aria-label": `Fleet convergence, last ${spanWords(span)}, each minute's lowest share: ${minutesSummary(d)}`,
    },
    grid,
    spans(d.minutes, "away", d.minuteMs).map((sp) => band(sp, "away", "broker away")),
    spans(d.minutes, "down", d.minuteMs).map((sp) => band(sp, "stopped", "twins service not running")),
    runs.map((points) => s("polyline", { points: points.join(" "), class: "line" })),
    s("text", { x: PAD.l, y: H - 4, class: "axis" }, `−${spanWords(span)}`),
    s(
      "text",
      { x: PAD.l + iw / 2, y: H - 4, class: "axis", "text-anchor": "middle" },
      `−${spanWords(span / 2)}`,
    ),
    s("text", { x: W - PAD.r, y: H - 4, class: "axis", "text-anchor": "end" }, "now"),
  );
}
