/**
 * The header line: a fault indicator while a fault is in progress (red, first, so a narrow terminal
 * never cuts it off), the fleet's counts and what is being watched. It costs the same whatever the
 * fleet's size: the counts come in already summed and there are only ever a handful of faults.
 */
import type { ConsoleFault } from "../../view/source.js";
import { escapeTags } from "./glyphs.js";

export interface HeaderFacts {
  readonly total: number;
  readonly real: number;
  readonly on: number;
  readonly online: number;
  /** In-sync followers / known followers, 0..1. */
  readonly fraction: number;
  /** Followers known: none yet (at boot, or a fleet that follows no one) reads as such, not as 100 %. */
  readonly known: number;
  readonly lossPct: number | undefined;
  readonly title: string;
  /** A virtual-time fleet's time and pace (`42 s ×10`, `42 s PAUSED ×10`); absent on real time. */
  readonly pace?: string;
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
 * ` FAULT power-outage 24 nodes 3 s ` for the oldest fault in progress (seconds since it started,
 * on the source's clock), `+N` when more are; empty when none is.
 */
export function faultFlag(faults: readonly ConsoleFault[], now: number): string {
  const first = faults[0];
  if (first === undefined) return "";
  const s = Math.max(0, Math.floor((now - first.since) / 1000));
  return ` FAULT ${first.what} ${s} s${faults.length > 1 ? ` +${faults.length - 1}` : ""} `;
}

/** The in-sync fraction while no follower is known: there is nothing to be in sync yet. */
export const NO_FOLLOWERS = "in sync: no follower known yet";

/** The header as a tagged line at most `width` columns wide. */
export function renderHeader(f: HeaderFacts, flag: string, width: number): string {
  const stats = ` ${f.total} nodes${f.real > 0 ? ` (${f.real} real)` : ""}  on ${f.on}  ${f.known === 0 ? NO_FOLLOWERS : `in sync ${(f.fraction * 100).toFixed(1)}%`}  offline ${f.total - f.online}${f.lossPct === undefined ? "" : `  loss ${f.lossPct}%`}${f.pace === undefined ? "" : `  virtual ${f.pace}`}`;
  const plain = `${flag}${stats} | ${f.title}`.slice(0, Math.max(0, width));
  const cut = Math.min(flag.length, plain.length);
  const head = plain.slice(0, cut);
  const rest = escapeTags(plain.slice(cut));
  return head === "" ? rest : `{red-bg}{white-fg}{bold}${escapeTags(head)}{/bold}{/white-fg}{/red-bg}${rest}`;
}
