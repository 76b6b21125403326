/**
 * The two live charts as text: the fleet's in-sync fraction over the last minute, and the sync
 * latency histogram with the paper's 1 s requirement marked. Pure; cost is the chart's size plus one
 * pass over the (bounded) history and buckets.
 */
import type { ConvergenceSnapshot, LatencySnapshot } from "../../view/source.js";
import { colorRuns, type Glyphs } from "./glyphs.js";
import { NO_FOLLOWERS, syncWords } from "./header.js";

/** The paper's requirement: a change is distributed through the system in under 1 second. */
export const PAPER_LIMIT_MS = 1000;

export function pct(f: number): string {
  return `${(Math.round(f * 1000) / 10).toFixed(1)}%`;
}

export function ms(v: number): string {
  return v >= 10_000
    ? `${(v / 1000).toFixed(0)}s`
    : v >= 1000
      ? `${(v / 1000).toFixed(2)}s`
      : `${Math.round(v)}ms`;
}

/**
 * Tagged fields joined by `sep`, as many as fit in `width` columns from the first: a figure that
 * does not fit is left out whole, never cut (`n 4000` read `n 40`). The first is kept whatever.
 */
export function fitFields(fields: readonly string[], width: number, sep = "  "): string {
  const shown = (s: string) => s.replace(/\{[^}]*\}/g, "").length;
  let n = fields.length;
  while (n > 1 && shown(fields.slice(0, n).join(sep)) > width) n--;
  return fields.slice(0, n).join(sep);
}

export function fractionColor(f: number): string {
  return f >= 0.95 ? "green-fg" : f >= 0.8 ? "yellow-fg" : "red-fg";
}

/** Vertical bars of `values` (0..1 of the chart height) in eighth-row steps, top row first. */
export function bars(
  values: readonly (number | undefined)[],
  rows: number,
  g: Glyphs,
  color: (i: number) => string,
) {
  const lines: { ch: string; color: string }[][] = [];
  for (let r = 0; r < rows; r++) lines.push([]);
  const least = Math.max(
    1,
    g.bar.findIndex((ch, i) => i > 0 && ch.trim() !== ""),
  );
  values.forEach((v, i) => {
    // A value above the axis's floor draws at least the lowest visible step: rounded to none (or to
    // an eighth the ASCII glyphs show blank), it read as the floor.
    const eighths = v === undefined || v <= 0 ? 0 : Math.max(least, Math.round(Math.min(1, v) * rows * 8));
    for (let r = 0; r < rows; r++) {
      const level = Math.min(8, Math.max(0, eighths - (rows - 1 - r) * 8));
      lines[r]?.push({ ch: g.bar[level] ?? " ", color: level > 0 ? color(i) : "" });
    }
  });
  return lines;
}

/**
 * The y axis's floor for a window whose lowest share is `lowest`: the tenth below it, strictly, so
 * the lowest bar has a height (a share of exactly 70 % started the axis at 70 % and its bars drew
 * at no height, as an empty chart); 0 for a share of 0, which then reads 0 %, and at most 90 %.
 */
export function axisFloor(lowest: number): number {
  const tenths = lowest * 10;
  const near = Math.round(tenths);
  const below = Math.abs(tenths - near) < 1e-9 ? near - 1 : Math.floor(tenths);
  return Math.min(0.9, Math.max(0, below) / 10);
}

/**
 * The in-sync fraction over the last `windowMs` (right edge = now). The y axis starts at the
 * window's lowest tenth so that a drop of a few percent is visible. Returns `height` lines.
 */
export function renderConvergence(
  c: ConvergenceSnapshot,
  now: number,
  width: number,
  height: number,
  g: Glyphs,
  windowMs = 60_000,
): string[] {
  const head =
    c.known === 0
      ? `{gray-fg}${NO_FOLLOWERS}{/gray-fg}`
      : c.online === 0
        ? fitFields(
            [
              `{gray-fg}${syncWords(c.known, 0, c.fraction, c.unheard)}{/gray-fg}`,
              `last heard ${c.inSync}/${c.known}`,
            ],
            width,
            " ",
          )
        : fitFields(
            [
              `in sync {${fractionColor(c.fraction)}}{bold}${pct(c.fraction)}{/bold}{/${fractionColor(c.fraction)}}`,
              `${c.inSync}/${c.known}`,
            ],
            width,
            " ",
          );
  const rows = Math.max(1, height - 2);
  const cols = Math.max(1, width - 5);
  const step = windowMs / cols;
  const start = now - windowMs;
  const min: (number | undefined)[] = new Array(cols).fill(undefined);
  // Columns whose last sample had no follower online: the share there is the last-heard one
  // (a fleet stopped reads 100 %), so no bar is drawn but a gray band (glyphs.unjudged): `unheard`
  // where some were not heard since a broker restart (not known to be gone), `none` otherwise.
  const unjudged: (Unjudged | false | undefined)[] = new Array(cols).fill(undefined);
  // The share from before the window holds on into it: a fleet quiet for longer than the window
  // has no point in it (the twins add one when a status moves), and its chart stood empty.
  const before = c.history.filter((p) => p.t < start && p.known !== 0).at(-1);
  for (const p of before === undefined ? c.history : [{ ...before, t: start }, ...c.history]) {
    // A point taken with no follower known says nothing of sync (its fraction is 1 by convention).
    if (p.t < start || p.t > now || p.known === 0) continue;
    const i = Math.min(cols - 1, Math.floor((p.t - start) / step));
    // A restart's marker (the twins service was not running until the next point): no share either.
    const down = p.stoppedUntil !== undefined;
    unjudged[i] = down ? "stopped" : p.online === 0 && ((p.unheard ?? 0) > 0 ? "unheard" : "none");
    if (p.online === 0 || down) continue;
    const prev = min[i];
    min[i] = prev === undefined ? p.fraction : Math.min(prev, p.fraction);
  }
  // Hold the last value across columns with no sample, so a slow source draws a line, not teeth;
  // a stretch with no follower online lasts until the next sample too.
  for (let i = 1; i < cols; i++) {
    if (unjudged[i] !== undefined) continue;
    unjudged[i] = unjudged[i - 1];
    if (min[i] === undefined && !unjudged[i]) min[i] = min[i - 1];
  }
  // Columns in a broker outage (a live fleet's): nothing was heard, the value held on through them
  // is the one before it (it drew the fleet in sync through a minute without a broker), so they get
  // the band too; the value before the outage holds on after it until a new sample.
  const lost = awayColumns(c.away ?? [], start, step, cols);
  for (let i = 0; i < cols; i++) if (lost[i]) min[i] = undefined;
  const lowest = Math.min(...min.filter((v): v is number => v !== undefined), 1);
  const floor = axisFloor(lowest);
  const scaled = min.map((v) => (v === undefined ? undefined : (v - floor) / (1 - floor)));
  const chart = bars(scaled, rows, g, (i) => fractionColor(min[i] ?? 1));
  for (const row of chart)
    row.forEach((cell, i) => {
      if ((unjudged[i] || lost[i]) && cell.ch === " ") row[i] = { ch: g.unjudged, color: "gray-fg" };
    });
  const lines = [head];
  chart.forEach((cells, r) => {
    const label = r === 0 ? "100%" : r === rows - 1 ? `${Math.round(floor * 100)}%`.padStart(4) : "    ";
    lines.push(`{gray-fg}${label}{/gray-fg}${g.mark === "|" ? "|" : "┤"}${colorRuns(cells)}`);
  });
  // The band's legend on the time axis while it is in the window, where it fits.
  lines.push(
    timeAxis(
      cols,
      `-${Math.round(windowMs / 1000)}s`,
      bandLegend(unjudgedWords(unjudged), lost.includes(true), g),
    ),
  );
  return lines.slice(0, height);
}

/**
 * A chart's time axis under `cols` columns: `span` ago at the left, `end` at the right (`now`, or the
 * time of a read the chart stops at), the first of `legends` that fits between.
 */
export function timeAxis(cols: number, span: string, legends: readonly string[], end = "now"): string {
  const room = cols - span.length - end.length;
  const legend = legends.find((l) => l.length <= room);
  const mid =
    legend !== undefined
      ? legend.padStart(Math.floor((room + legend.length) / 2)).padEnd(room)
      : " ".repeat(Math.max(0, room));
  return `{gray-fg}${" ".repeat(5)}${span}${mid}${end}{/gray-fg}`;
}

/** The columns (`step` ms each from `start`) that a broker outage overlaps. */
function awayColumns(
  away: readonly { readonly from: number; readonly to?: number }[],
  start: number,
  step: number,
  cols: number,
): boolean[] {
  const lost: boolean[] = new Array(cols).fill(false);
  for (const a of away) {
    const first = Math.max(0, Math.floor((a.from - start) / step));
    const last = a.to === undefined ? cols - 1 : Math.min(cols - 1, Math.floor((a.to - start) / step));
    for (let i = first; i <= last; i++) lost[i] = true;
  }
  return lost;
}

/** The band's legends, longest first, for what it stands for: no follower online, the broker away (lost, silent). */
function bandLegend(noFollower: string | undefined, brokerLost: boolean, g: Glyphs): string[] {
  const b = g.unjudged;
  if (noFollower && brokerLost) return [` ${b} broker away, ${noFollower} `, ` ${b} not measured `];
  if (brokerLost) return [` ${b} broker away `];
  if (noFollower) return [` ${b} ${noFollower} `];
  return [];
}

/** Why a column drew no share though the broker was there: no follower online, or them unheard. */
type Unjudged = "none" | "unheard" | "stopped";

/** The legend's words for the columns with no follower online: `followers unheard` when all were so. */
function unjudgedWords(cols: readonly (Unjudged | false | undefined)[]): string | undefined {
  if (cols.includes("stopped")) return "twins service not running";
  const none = cols.includes("none");
  const unheard = cols.includes("unheard");
  if (none && unheard) return "no follower online or heard";
  if (unheard) return "followers unheard";
  return none ? "no follower online" : undefined;
}

/**
 * The latency histogram over 0..2 s (or to the p99 when it is later), with a column marking 1 s,
 * the paper's limit. Returns `height` lines.
 */
export function renderLatency(l: LatencySnapshot, width: number, height: number, g: Glyphs): string[] {
  let within = 0;
  let total = l.overflow;
  l.buckets.forEach((n, i) => {
    total += n;
    if ((i + 1) * l.bucketMs <= PAPER_LIMIT_MS) within += n;
  });
  const withinPct = total === 0 ? 1 : within / total;
  const lines =
    total === 0
      ? [
          "{gray-fg}no sync measured yet{/gray-fg}",
          `{gray-fg}<1s -{/gray-fg}  {yellow-fg}${g.mark}{/yellow-fg} paper's 1 s`,
        ]
      : [
          fitFields(
            [`p50 {bold}${ms(l.p50Ms)}{/bold}`, `p99 {bold}${ms(l.p99Ms)}{/bold}`, `n ${l.count}`],
            width,
          ),
          `{${withinPct >= 0.99 ? "green-fg" : "red-fg"}}<1s ${pct(withinPct)}{/}  {yellow-fg}${g.mark}{/yellow-fg} paper's 1 s`,
        ];
  const rows = Math.max(1, height - 3);
  const cols = Math.max(2, width);
  const rangeMs = Math.max(2 * PAPER_LIMIT_MS, Math.ceil(l.p99Ms / PAPER_LIMIT_MS) * PAPER_LIMIT_MS);
  const perCol = rangeMs / cols;
  const counts: number[] = new Array(cols).fill(0);
  l.buckets.forEach((n, i) => {
    const c = Math.floor((i * l.bucketMs) / perCol);
    if (c < cols) counts[c] = (counts[c] ?? 0) + n;
    else counts[cols - 1] = (counts[cols - 1] ?? 0) + n;
  });
  counts[cols - 1] = (counts[cols - 1] ?? 0) + l.overflow;
  const peak = Math.max(1, ...counts);
  const markCol = Math.min(cols - 1, Math.round(PAPER_LIMIT_MS / perCol));
  const chart = bars(
    counts.map((n) => (n === 0 ? undefined : Math.max(1 / (rows * 8), n / peak))),
    rows,
    g,
    (i) => (i < markCol ? "cyan-fg" : "red-fg"),
  );
  for (const row of chart) {
    const cell = row[markCol];
    if (cell && cell.ch === " ") row[markCol] = { ch: g.mark, color: "yellow-fg" };
  }
  for (const row of chart) lines.push(colorRuns(row));
  const right = `${rangeMs / 1000}s`;
  const axis = `0${"1s".padStart(markCol + 1)}`;
  lines.push(`{gray-fg}${axis}${right.padStart(Math.max(1, cols - axis.length))}{/gray-fg}`);
  return lines.slice(0, height);
}
