/**
 * The convergence history's file in the twins data directory (`DIR/convergence-history.jsonl`): one
 * JSON object a line, a header first. Points are appended as the feed adds them (`{"r":1,…}` when a
 * point takes the place of the one before it, as the feed's series does), `{"alive":t}` says the
 * service still ran at t, `{"stop":t}` that it stopped cleanly then, `{"m":t,…}` is a minute of the long
 * tier (twins/minute-tier.ts; format 2, which added them: a format 1 file is read as before),
 * `{"away":t}` a broker outage from t, `{"away":t,"to":u}` one that ended at u, each in the place of
 * an open one before it (twins/broker-spans.ts; format 3, written only while the file holds one, so
 * that a build reading format 2 reads the file whenever it can and never leaves them out), `"held":true`
 * in a point one measured during the service's own re-read of the broker's state, its share the one
 * from before (twins/reread-hold.ts; format 4, written only while the file holds one, as format 3:
 * a build reading format 3 would leave such a point out as damaged; minutes rebuilt at a start from
 * the points are then the live ones, the re-read not a dip). Reading
 * replays the lines into bounded series; the file is rewritten whole (temporary file, fsync, rename, the directory's fsync)
 * at the start and when it holds twice the series' capacity in lines, so appends stay cheap and the
 * file bounded. A line that is not one of these is left out, and said; a file in a newer format is
 * left as it is, and not written. Its times are dates (ms since the Unix epoch): a scheduler's `now()`
 * has its own origin (a fleet run's is the run's start), so lines are written at `now() + offset` and
 * read back at `date - offset`, `offset` being the scheduler's `wallNow() - now()`. Nothing here
 * stops the service: the history is a view, not state.
 */
import { constants } from "node:fs";
import { rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { type EachLine, eachBoundedLine } from "./bounded-lines.js";
import { AWAY_SPANS, type AwaySpan } from "./broker-spans.js";
import { MINUTE_MS, MINUTES_KEPT, type MinutePoint } from "./minute-tier.js";
import { BoundedSeries } from "./series.js";
import { appendSynced, replaceThrough } from "./store-journal.js";
import { isErrno } from "./store-lock.js";
import type { SeriesPoint } from "./types.js";

export const HISTORY_FILE = "convergence-history.jsonl";
/** With nothing else written for this long, an `alive` line says the service still runs. */
export const HISTORY_ALIVE_MS = 60_000;
/** The newest format this build reads and writes. */
export const HISTORY_FORMAT = 4;
/** The format that added the broker's outages (`away` lines): a file holding none is written as 2. */
export const AWAY_FORMAT = 3;
/** The format that added the `held` mark of a point (twins/reread-hold.ts): a file holding none is written as 3 or 2. */
export const HELD_FORMAT = 4;
/** The format a line needs: HELD_FORMAT for a held point, 2 (the oldest written) for any other point. */
export const pointFormat = (p: SeriesPoint): number => (p.held === true ? HELD_FORMAT : 2);
/**
 * The format a file of `away` spans and `points` is written in: the lowest that holds them all, so a
 * build reading an older format reads the file whenever it can and never leaves a line out: 4 with a
 * held point, 3 with outages, 2 (which has neither) without.
 */
export const formatFor = (away: readonly AwaySpan[], points: readonly SeriesPoint[] = []): number =>
  Math.max(away.length > 0 ? AWAY_FORMAT : 2, ...points.map(pointFormat));

const count = z.number().int().min(0);
const pointSchema = z.object({
  t: z.number().finite(),
  fraction: z.number().min(0).max(1),
  inSync: count,
  known: count,
  online: count.optional(),
  unheard: count.optional(),
  stoppedUntil: z.number().finite().optional(),
  held: z.literal(true).optional(),
});
const minuteSchema = z
  .object({
    m: z.number().finite(),
    fraction: z.number().min(0).max(1).optional(),
    inSync: count.optional(),
    known: count.optional(),
    online: count.optional(),
    away: z.literal(true).optional(),
    down: z.literal(true).optional(),
    joining: z.literal(true).optional(),
  })
  .strict();
const lineSchema = z.union([
  minuteSchema,
  pointSchema.extend({ r: z.literal(1).optional() }).strict(),
  z.object({ alive: z.number().finite() }).strict(),
  z.object({ stop: z.number().finite() }).strict(),
  z.object({ away: z.number().finite(), to: z.number().finite().optional() }).strict(),
]);
// `fleet`: the topic prefix of the fleet it measured; a file written before it was kept has none.
const headerSchema = z.object({
  format: z.number().int(),
  history: z.literal("twinfleet convergence"),
  fleet: z.string().optional(),
});

/** What a file held. */
export interface ReadHistory {
  readonly points: SeriesPoint[];
  /** The long tier's minutes, oldest first (none in a format 1 file). */
  readonly minutes: MinutePoint[];
  /** The broker's last outages, oldest first (none before format 3); the last may be open (a kill in one). */
  readonly away: AwaySpan[];
  /** The latest moment the file shows the service running: its last point, `alive` or `stop`. */
  readonly lastAlive: number | undefined;
  /** It said it stopped cleanly (its last record is a `stop`). */
  readonly stopped: boolean;
  /** Lines left out, by number (1 is the header), and why the first was. */
  readonly bad: { readonly count: number; readonly first?: string };
  /** Lines in the file. */
  readonly lines: number;
  /**
   * Records dated after `notAfter` (the host's clock set back since they were written), left out:
   * a point kept would stand before the points to come, an `alive` or `stop` would hide the gap.
   */
  readonly future: { readonly count: number; readonly latest?: number };
}

export type HistoryRead =
  | { readonly kind: "none" }
  | { readonly kind: "read"; readonly history: ReadHistory }
  /** Not read, and not to be written: a newer format, or a file that cannot be read (a directory). */
  | { readonly kind: "refused"; readonly why: string }
  /** Not a history at all (its header is not one): moved aside by the caller. */
  | { readonly kind: "foreign"; readonly why: string }
  /** Another fleet's (another topic prefix): moved aside by the caller, not shown as this one's. */
  | { readonly kind: "other-fleet"; readonly why: string };

/** A point as a line, its times moved by `offset` onto dates. */
export function pointLine(p: SeriesPoint, replaces = false, offset = 0): string {
  const dated = shifted(p, offset);
  return `${JSON.stringify(replaces ? { r: 1, ...dated } : dated)}\n`;
}

function shifted(p: SeriesPoint, by: number): SeriesPoint {
  if (by === 0) return p;
  return p.stoppedUntil !== undefined
    ? { ...p, t: p.t + by, stoppedUntil: p.stoppedUntil + by }
    : { ...p, t: p.t + by };
}

/** A minute of the long tier as a line. */
export function minuteLine(m: MinutePoint, offset = 0): string {
  const { t, ...rest } = m;
  return `${JSON.stringify({ m: t + offset, ...rest })}\n`;
}

export const aliveLine = (t: number): string => `${JSON.stringify({ alive: t })}\n`;
export const stopLine = (t: number): string => `${JSON.stringify({ stop: t })}\n`;
/** A broker outage's span as a line, its times moved by `offset` onto dates. */
export const awayLine = (s: AwaySpan, offset = 0): string =>
  `${JSON.stringify(s.to === undefined ? { away: s.from + offset } : { away: s.from + offset, to: s.to + offset })}\n`;
const headerLine = (fleet: string | undefined, format: number): string =>
  `${JSON.stringify({ format, history: "twinfleet convergence", ...(fleet !== undefined ? { fleet } : {}) })}\n`;

/**
 * What a read leaves out: records dated after `notAfter`, a file of another fleet than `fleet`, all but
 * the last `minutesKept` minutes; its dates are taken back onto the scheduler's time by `offset` (the
 * date minus the time), before all.
 */
export interface ReadLimits {
  readonly notAfter?: number;
  readonly fleet?: string;
  readonly offset?: number;
  readonly minutesKept?: number;
}

/**
 * The longest line a history holds, bytes: its records are under 200 bytes; a longer line is not
 * read into memory, only named.
 */
export const HISTORY_MAX_LINE_BYTES = 64 * 1024;

/**
 * Reads `file` into a series of `capacity` points and the last minutes, within `limits`, a line at a
 * time: what is kept is bounded (the series, the minutes, AWAY_SPANS outages), whatever the file's
 * length, so a file of a million lines costs the start no more than one of a thousand.
 */
export async function readHistory(
  file: string,
  capacity: number,
  limits: ReadLimits = {},
): Promise<HistoryRead> {
  const reader = historyReader(capacity, limits);
  let lines: number;
  try {
    lines = await eachBoundedLine(file, HISTORY_MAX_LINE_BYTES, reader.line);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return { kind: "none" };
    return { kind: "refused", why: (e as Error).message };
  }
  return reader.read(lines);
}

export function parseHistory(text: string, capacity: number, limits: ReadLimits = {}): HistoryRead {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const reader = historyReader(capacity, limits);
  let offset = 0;
  for (const [index, line] of lines.entries()) {
    const bytes = Buffer.byteLength(line);
    if (reader.line(line, { index, offset, bytes, ended: true }) === false) break;
    offset += bytes + 1;
  }
  return reader.read(lines.length);
}

/**
 * The history of a file's lines, handed on one at a time (`line`, false once the header says the file
 * is not to be read further); `read(lines)`, after the last of `lines`, says what the file held.
 */
function historyReader(
  capacity: number,
  limits: ReadLimits,
): { line: EachLine; read: (lines: number) => HistoryRead } {
  const notAfter = limits.notAfter ?? Number.POSITIVE_INFINITY;
  const offset = limits.offset ?? 0;
  const minutesKept = limits.minutesKept ?? MINUTES_KEPT;
  let refused: HistoryRead | undefined;
  const series = new BoundedSeries(capacity);
  const minutes: MinutePoint[] = [];
  const away: AwaySpan[] = [];
  let lastAlive: number | undefined;
  let stopped = false;
  let bad = 0;
  /** The first line left out: its number, and its length when it was too long to read. */
  let first: { readonly index: number; readonly long?: number } | undefined;
  let future = 0;
  let latest: number | undefined;
  const header = (text: string): HistoryRead | undefined => {
    const parsed = headerSchema.safeParse(parseOrUndefined(text));
    if (!parsed.success)
      return { kind: "foreign", why: "its first line is not a convergence history's header" };
    if (parsed.data.format > HISTORY_FORMAT)
      return {
        kind: "refused",
        why: `it is in format ${parsed.data.format}, written by a newer twinfleet; this one reads format ${HISTORY_FORMAT}`,
      };
    const { fleet } = parsed.data;
    if (fleet !== undefined && limits.fleet !== undefined && fleet !== limits.fleet)
      return {
        kind: "other-fleet",
        why: `it is the history of the fleet under prefix ${fleet}, and this service watches prefix ${limits.fleet}`,
      };
    return undefined;
  };
  const line: EachLine = (text, at) => {
    if (at.index === 0) {
      refused = header(text ?? "");
      return refused === undefined;
    }
    const parsed = lineSchema.safeParse(text === undefined ? undefined : parseOrUndefined(text));
    if (!parsed.success) {
      bad++;
      first ??= text === undefined ? { index: at.index, long: at.bytes } : { index: at.index };
      return;
    }
    const rec = parsed.data;
    const when = dateOf(rec) - offset;
    if (when > notAfter) {
      future++;
      latest = Math.max(latest ?? when, when);
      return;
    }
    if ("m" in rec) {
      const { m: _, ...rest } = rec;
      // On this clock's minutes: the date minus the time it was written with differs from this
      // start's by a ms or so (two clocks read), and a minute read back started at :00.001.
      const t = Math.round(when / MINUTE_MS) * MINUTE_MS;
      // Minutes come in order; one not after the last (a clock set back) takes its place.
      while (minutes.length > 0 && (minutes.at(-1)?.t ?? 0) >= t) minutes.pop();
      minutes.push(withoutUndefined({ t, ...rest }) as MinutePoint);
      if (minutes.length > minutesKept) minutes.shift();
      // Written as it closed: the service ran to its end.
      lastAlive = Math.max(lastAlive ?? when + MINUTE_MS, when + MINUTE_MS);
      return;
    }
    if ("away" in rec) {
      // An outage's later line (its start moved, or its end) takes the place of its open one.
      if (away.length > 0 && away.at(-1)?.to === undefined) away.pop();
      const from = rec.away - offset;
      away.push(rec.to === undefined ? { from } : { from, to: rec.to - offset });
      if (away.length > AWAY_SPANS) away.shift();
      lastAlive = Math.max(lastAlive ?? when, when);
      return;
    }
    if ("alive" in rec || "stop" in rec) lastAlive = Math.max(lastAlive ?? when, when);
    else {
      const { r, ...p } = rec;
      const point = shifted(withoutUndefined(p), -offset);
      if (r === 1) series.replaceLast(point);
      else series.push(point);
      lastAlive = Math.max(lastAlive ?? when, when);
    }
    stopped = "stop" in rec;
    return undefined;
  };
  const why = (lines: number, f: { readonly index: number; readonly long?: number }): string =>
    `line ${f.index + 1} ${f.long !== undefined ? `is ${f.long} bytes long, where a record is at most ${HISTORY_MAX_LINE_BYTES} (not read)` : f.index === lines - 1 ? "is cut short or garbled (a crash or a full disk mid-write?)" : "is not a history record"}`;
  const read = (lines: number): HistoryRead => {
    if (lines === 0) return { kind: "none" };
    if (refused !== undefined) return refused;
    return {
      kind: "read",
      history: {
        points: series.toArray(),
        minutes,
        away,
        lastAlive,
        stopped,
        bad: first === undefined ? { count: 0 } : { count: bad, first: why(lines, first) },
        lines,
        future: latest === undefined ? { count: 0 } : { count: future, latest },
      },
    };
  };
  return { line, read };
}

/**
 * Replaces `file` with a header (naming `fleet`, the topic prefix), `minutes` and `points` (and an
 * `alive` at `aliveAt`), their times moved by `offset` onto dates, whole or not at all.
 */
export async function rewriteHistory(
  file: string,
  points: readonly SeriesPoint[],
  aliveAt: number,
  kept: {
    readonly minutes?: readonly MinutePoint[];
    readonly away?: readonly AwaySpan[];
    readonly fleet?: string;
    readonly offset?: number;
  } = {},
): Promise<void> {
  // One name: the directory is held by one service (twins.lock), and a crash mid-write leaves one file,
  // which the next rewrite replaces.
  const tmp = join(dirname(file), `${basename(file)}.tmp`);
  const { minutes = [], away = [], fleet, offset = 0 } = kept;
  const text =
    minutes.map((m) => minuteLine(m, offset)).join("") +
    away.map((s) => awayLine(s, offset)).join("") +
    points.map((p) => pointLine(p, false, offset)).join("");
  const header = headerLine(fleet, formatFor(away, points));
  await replaceThrough(tmp, dirname(file), file, header + text + aliveLine(aliveAt + offset));
}

/**
 * Appends `text` to `file`, through to the disk. A file that is gone (removed or moved while the
 * service ran) is not created again here (ENOENT): lines without the header would make the next
 * start take the file for no history at all; the caller writes it whole.
 */
export async function appendHistory(file: string, text: string): Promise<void> {
  await appendSynced(file, text, constants.O_WRONLY | constants.O_APPEND);
}

/** Moves a file aside (`….damaged`, `….other-fleet`), so that a new one can be started. */
export async function moveAside(file: string, suffix = "damaged"): Promise<string> {
  const to = `${file}.${suffix}`;
  await rename(file, to);
  return to;
}

/** A record's date: when it was written, or, for an outage's span, when it ended. */
function dateOf(rec: z.infer<typeof lineSchema>): number {
  if ("m" in rec) return rec.m;
  if ("alive" in rec) return rec.alive;
  if ("stop" in rec) return rec.stop;
  if ("away" in rec) return rec.to ?? rec.away;
  return rec.t;
}

function parseOrUndefined(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function withoutUndefined<T extends object>(p: T): SeriesPoint {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as unknown as SeriesPoint;
}
