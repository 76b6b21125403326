/**
 * The convergence chart's long range as text: the twins service's minutes (up to 48 h, each its
 * lowest in-sync share), a column standing for as many minutes as the width asks and drawn at their
 * lowest, with a gray band where the broker was away or the service not running (as the recent
 * chart draws its bands), under the line that answers the morning question (view/minutes-words.ts,
 * the page's words). A fleet whose minutes cannot be had says why in the chart's place.
 */
import { MINUTE_MS, MINUTES_KEPT, type MinutePoint } from "../../twins/index.js";
import type { MinutesState } from "../../view/minutes-feed.js";
import { minuteClock, spanWords, summaryParts, summaryTiny } from "../../view/minutes-words.js";
import { axisFloor, bars, fractionColor, timeAxis } from "./charts.js";
import { colorRuns, escapeTags, type Glyphs } from "./glyphs.js";
import { wrap } from "./log.js";

/** The span the chart draws, [t0, t1): from the first minute kept (10 at least) to now, 48 h at most. */
export function minutesSpan(minutes: readonly MinutePoint[], t: number): { t0: number; t1: number } {
  const t1 = Math.max(t, (minutes.at(-1)?.t ?? 0) + MINUTE_MS);
  const t0 = Math.max(t1 - MINUTES_KEPT * MINUTE_MS, Math.min(minutes[0]?.t ?? t1, t1 - 10 * MINUTE_MS));
  return { t0, t1 };
}

/** Each column's lowest share and whether the broker was away or the service down in it. */
function columns(minutes: readonly MinutePoint[], t0: number, t1: number, cols: number) {
  const low: (number | undefined)[] = new Array(cols).fill(undefined);
  const away: boolean[] = new Array(cols).fill(false);
  const down: boolean[] = new Array(cols).fill(false);
  const step = (t1 - t0) / cols;
  for (const m of minutes) {
    if (m.t + MINUTE_MS <= t0 || m.t >= t1) continue;
    const first = Math.max(0, Math.floor((m.t - t0) / step));
    const last = Math.min(cols - 1, Math.ceil((m.t + MINUTE_MS - t0) / step) - 1);
    for (let i = first; i <= last; i++) {
      // A minute in which nodes were joining is drawn as one with nothing judged: its share (`0 of
      // 2` as the first followers were heard) says how far registration had got, and it set the
      // scale's floor at 0 % under a fleet in sync since.
      if (m.fraction !== undefined && !m.joining) low[i] = Math.min(low[i] ?? 1, m.fraction);
      if (m.away) away[i] = true;
      if (m.down) down[i] = true;
    }
  }
  return { low, away, down };
}

/**
 * The bands' legends, longest first, for what is in view. The shortest fits the axis of a box whose
 * minutes are old, which ends at the read's time (`10:16`, two characters longer than `now`).
 */
function legends(away: boolean, down: boolean, b: string): string[] {
  if (away && down)
    return [
      ` ${b} broker away, twins service not running `,
      ` ${b} broker away, twins down `,
      ` ${b} not measured `,
      ` ${b} outage `,
    ];
  if (down)
    return [` ${b} twins service not running `, ` ${b} twins down `, ` ${b} not measured `, ` ${b} outage `];
  if (away) return [` ${b} broker away `, ` ${b} outage `];
  return [];
}

/**
 * The summary's parts (each in its forms, longest first) wrapped to `width` in `rows` lines at most:
 * the longest forms first, as many parts as fit (its last parts go whole: `; twins service not
 * running in 1 min`, never a part cut in two, `… not running in 1`), then the shorter forms (`lowest
 * 13.7 % at 04:56`, `low 13.7 %`) where even the first part's long form does not fit the box.
 */
function fitParts(parts: readonly (readonly string[])[], width: number, rows: number): string[] {
  const w = Math.max(1, width);
  const levels = Math.max(1, ...parts.map((forms) => forms.length));
  for (let level = 0; level < levels; level++)
    for (let n = parts.length; n >= 1; n--) {
      const text = parts
        .slice(0, n)
        .map((forms) => forms[Math.min(level, forms.length - 1)])
        .join("; ");
      const lines = wrap(text, w);
      if (lines.length <= rows) return lines;
    }
  return wrap(parts[0]?.at(-1) ?? "", w).slice(0, rows);
}

/**
 * The summary (`summaryParts`) in `rows` lines of `width`: every part, the first in its longest form
 * that lets them fit, the minutes away and down in their long forms and then their short ones; else
 * the one short line that says them all (`summaryTiny`); else fewer parts (`fitParts`). The minutes
 * away or down are what the morning question asks after the share: a box of one row in a 60×15
 * terminal (22 columns) took `lowest 20.0 % at 09:59` and said nothing of a night's outage, which
 * its chart had no room to draw either.
 */
function fitSummary(
  parts: readonly (readonly string[])[],
  tiny: readonly string[],
  width: number,
  rows: number,
): string[] {
  const w = Math.max(1, width);
  const fits = (text: string) => wrap(text, w).length <= rows;
  const [first = [], ...rest] = parts;
  const restLevels = Math.max(1, ...rest.map((forms) => forms.length));
  for (let r = 0; r < restLevels; r++)
    for (const head of first) {
      const text = [head, ...rest.map((forms) => forms[Math.min(r, forms.length - 1)])].join("; ");
      if (fits(text)) return wrap(text, w);
    }
  for (const text of tiny) if (fits(text)) return wrap(text, w);
  return fitParts(parts, width, rows);
}

/** A read's time: a date's UTC time to the second, or the history's clock (virtual time). */
const readClock = (t: number): string =>
  t > 1e12 ? `${new Date(t).toISOString().slice(11, 19)} UTC` : minuteClock(t);

/**
 * The words over a chart whose minutes are old (their service did not answer the last read): since
 * when, and why, in the forms `fitParts` takes, down to one a narrow box holds in a row (`stale since
 * 10:16: no answer`, as the summary has its short forms).
 */
function staleForms(t: number, why: string): string[] {
  const since = `not read since ${readClock(t)}`;
  // The address is the one given to --via: a narrower box says why without it.
  const short = why.replace(/ at https?:\/\/[^\s:]+(:\d+)?/, "");
  const hhmm = minuteClock(t).replace(/ UTC$/, "");
  const brief = why.startsWith("cannot reach") ? [`stale since ${hhmm}: no answer`] : [];
  return [`${since}: ${why}`, `${since}: ${short}`, ...brief, since, `stale since ${hhmm}`, `read ${hhmm}`];
}

/** `height` lines at most for a box `width` wide. */
export function renderMinutes(s: MinutesState, width: number, height: number, g: Glyphs): string[] {
  if (s.kind !== "minutes") {
    const words = s.kind === "none" ? s.why : `${s.what}…`;
    return wrap(escapeTags(words), Math.max(1, width))
      .slice(0, Math.max(1, height))
      .map((l) => `{gray-fg}${l}{/gray-fg}`);
  }
  const cols = Math.max(1, width - 5);
  const { t0, t1 } = minutesSpan(s.minutes, s.t);
  const { low, away, down } = columns(s.minutes, t0, t1, cols);
  const banded = away.map((a, i) => a || down[i] === true);
  // The band's own row under the bars, where a minute away or down is in view and the box has room
  // (four rows: words, a row of chart, the band's row, the axis): a minute whose share filled its
  // column left no room above its bar for the band, and the outage was not drawn at all.
  const strip = banded.includes(true) && height >= 4 ? 1 : 0;
  // The answer first: the chart keeps two rows at least (one beside the band's row) and the axis one,
  // the words the rest. Over old minutes, the words say so first (and why) in one row of the rows the
  // answer took when fresh, the answer the others: the chart keeps as many rows as fresh (the words
  // took three rows of a 32×8 box, the chart one).
  const room = Math.max(1, height - 3);
  const summary = summaryParts(s.minutes);
  const tiny = summaryTiny(s.minutes);
  let words = fitSummary(summary, tiny, width, room);
  let stale: string[] = [];
  if (s.stale !== undefined) {
    const rowsFresh = words.length;
    words = [];
    if (rowsFresh === 1) stale = fitParts([staleForms(s.t, s.stale), ...summary], width, 1);
    else {
      stale = fitParts([staleForms(s.t, s.stale)], width, 1);
      words = fitSummary(summary, tiny, width, rowsFresh - 1);
    }
  }
  const rows = Math.max(1, height - stale.length - words.length - 1 - strip);
  const lowest = Math.min(...low.filter((v): v is number => v !== undefined), 1);
  const floor = axisFloor(lowest);
  // A minute judged at the axis's floor (0 %: nothing in sync) draws its lowest step, not a blank
  // column that reads as a minute with nothing judged.
  const chart = bars(
    low.map((v) => (v === undefined ? undefined : Math.max(1e-9, (v - floor) / (1 - floor)))),
    rows,
    g,
    (i) => fractionColor(low[i] ?? 1),
  );
  for (const row of chart)
    row.forEach((cell, i) => {
      if (banded[i] && cell.ch === " ") row[i] = { ch: g.unjudged, color: "gray-fg" };
    });
  const lines = [
    ...stale.map((w) => `{yellow-fg}${escapeTags(w)}{/yellow-fg}`),
    ...words.map((w) => escapeTags(w)),
  ];
  chart.forEach((cells, r) => {
    const label = r === 0 ? "100%" : r === rows - 1 ? `${Math.round(floor * 100)}%`.padStart(4) : "    ";
    lines.push(`{gray-fg}${label}{/gray-fg}${g.mark === "|" ? "|" : "┤"}${colorRuns(cells)}`);
  });
  if (strip === 1)
    lines.push(
      `     ${colorRuns(banded.map((b) => (b ? { ch: g.unjudged, color: "gray-fg" } : { ch: " ", color: "" })))}`,
    );
  lines.push(
    timeAxis(
      cols,
      `-${spanWords(t1 - t0)}`,
      legends(away.includes(true), down.includes(true), g.unjudged),
      s.stale === undefined ? "now" : minuteClock(s.t).replace(/ UTC$/, ""),
    ),
  );
  return lines.slice(0, height);
}
