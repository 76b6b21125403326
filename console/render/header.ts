/**
 * The header line: a fault indicator while a fault is in progress (red, first, so a narrow terminal
 * never cuts it off), the fleet's counts and what is being watched. It costs the same whatever the
 * fleet's size: the counts come in already summed and there are only ever a handful of faults.
 * What does not fit gives way in order: the title, then the fault's description (shortened with
 * `~`, its seconds and `+N` kept), then whole counts from the last; a figure is never cut in two.
 */
import type { ConsoleFault } from "../../view/source.js";
import { escapeTags } from "./glyphs.js";

export interface HeaderFacts {
  readonly total: number;
  readonly real: number;
  readonly on: number;
  readonly online: number;
  /** Online only by the status a restarted broker kept, not heard since (ConsoleNode.unheard): not offline either. */
  readonly unheard?: number;
  /** In-sync followers / known followers, 0..1. */
  readonly fraction: number;
  /** Followers known: none yet (at boot, or a fleet that follows no one) reads as such, not as 100 %. */
  readonly known: number;
  /** Of the known followers, those online now (where the source knows): none reads as such. */
  readonly judged?: number;
  /** Of the known followers, those not heard since the broker restarted (neither online nor offline). */
  readonly judgedUnheard?: number;
  readonly lossPct: number | undefined;
  readonly title: string;
  /** A virtual-time fleet's time and pace (`42 s ×10`, `42 s PAUSED ×10`); absent on real time. */
  readonly pace?: string;
}

/** The oldest fault in progress as the header shows it: what it is, and `3 s +1` (seconds, how many more). */
export interface FaultFlag {
  readonly what: string;
  readonly tail: string;
}

/** The header's pace: how far virtual time has got (`now`, ms) and its speed, e.g. `42 s ×10`. */
export function paceFlag(
  p: { readonly speed: number | "max"; readonly paused: boolean },
  now: number,
): string {
  const speed = p.speed === "max" ? "max" : `×${p.speed}`;
  return `${Math.floor(now / 1000)} s ${p.paused ? `PAUSED ${speed}` : speed}`;
}

/**
 * The oldest fault in progress (seconds since it started, on the source's clock, `+N` when more
 * are); undefined when none is.
 */
export function faultFlag(faults: readonly ConsoleFault[], now: number): FaultFlag | undefined {
  const first = faults[0];
  if (first === undefined) return undefined;
  const s = Math.max(0, Math.floor((now - first.since) / 1000));
  return { what: first.what, tail: `${s} s${faults.length > 1 ? ` +${faults.length - 1}` : ""}` };
}

/** ` FAULT power-outage 24 nodes 3 s +1 `, its description maybe shortened; empty for none. */
export function flagText(flag: FaultFlag | undefined, what = flag?.what): string {
  return flag === undefined ? "" : ` FAULT ${what} ${flag.tail} `;
}

/** The in-sync fraction while no follower is known: there is nothing to be in sync yet. */
export const NO_FOLLOWERS = "in sync: no follower known yet";

/**
 * The in-sync fraction while every known follower is offline: it judges each by its last report, and
 * read `in sync 100.0%` with the whole fleet offline.
 */
export const NO_FOLLOWER_ONLINE = "in sync: no follower online to judge";

/**
 * The in-sync fraction while every known follower is not heard since the broker restarted (online
 * only by the status it kept): they are not offline, only not heard yet.
 */
export const NO_FOLLOWER_HEARD = "in sync: no follower heard yet to judge";

/** The header's (and the chart's) in-sync words: the share, or why there is none to give. */
export function syncWords(known: number, judged: number | undefined, fraction: number, unheard = 0): string {
  if (known === 0) return NO_FOLLOWERS;
  if (judged === 0) return unheard > 0 && unheard === known ? NO_FOLLOWER_HEARD : NO_FOLLOWER_ONLINE;
  return `in sync ${(fraction * 100).toFixed(1)}%`;
}

/** The shortest a fault's description is cut to (with its `~`) to leave room for the counts. */
const MIN_WHAT = 12;
/** The title is left out rather than shown in fewer columns than this. */
const MIN_TITLE = 8;

/** The header as a tagged line at most `width` columns wide. */
export function renderHeader(f: HeaderFacts, flag: FaultFlag | undefined, width: number): string {
  const w = Math.max(0, width);
  const counts = [
    `${f.total} nodes${f.real > 0 ? ` (${f.real} real)` : ""}`,
    `on ${f.on}`,
    syncWords(f.known, f.judged, f.fraction, f.judgedUnheard),
    `offline ${f.total - f.online - (f.unheard ?? 0)}`,
    ...(f.unheard ? [`unheard ${f.unheard}`] : []),
    ...(f.lossPct === undefined ? [] : [`loss ${f.lossPct}%`]),
    ...(f.pace === undefined ? [] : [`virtual ${f.pace}`]),
  ];
  const stats = (n: number) =>
    counts
      .slice(0, n)
      .map((c) => ` ${c}`)
      .join(" ");
  // The description as long as it can be beside the counts, not shorter than MIN_WHAT.
  const fitted = (n: number) => {
    if (flag === undefined) return "";
    const room = Math.max(MIN_WHAT, w - flagText(flag, "").length - stats(n).length);
    const what = flag.what.length <= room ? flag.what : `${flag.what.slice(0, room - 1)}~`;
    return flagText(flag, what);
  };
  let n = counts.length;
  while (n > 1 && fitted(n).length + stats(n).length > w) n--;
  const head = fitted(n);
  let rest = stats(n);
  const titleRoom = w - head.length - rest.length - 3;
  if (n === counts.length && titleRoom >= Math.min(MIN_TITLE, f.title.length))
    rest += ` | ${f.title.length <= titleRoom ? f.title : `${f.title.slice(0, titleRoom - 1)}~`}`;
  // Narrower than the indicator (or its first count): cut, the indicator first.
  const red = head.slice(0, w);
  rest = escapeTags(rest.slice(0, w - red.length));
  return red === "" ? rest : `{red-bg}{white-fg}{bold}${escapeTags(red)}{/bold}{/white-fg}{/red-bg}${rest}`;
}
