/**
 * The bound on a run's claim claimed again after clears (fleet/claim-hold.ts). A claim cleared or
 * replaced on the broker while its connection stays up is claimed again at once; a clearer that never
 * stops (a script clearing retained messages in a loop, runs started with --fresh one after another)
 * had the run publish its claim again about 3 times a second for the whole run, a line pair each time,
 * and a report loss each time, its claim held hardly at all. The run now claims its ids again after
 * CLAIM_CLEARS_MAX - 1 clears within CLAIM_CLEARS_WINDOW_MS, and at the CLAIM_CLEARS_MAX-th gives up:
 * one ERROR line says the ids are unclaimed and why, and the report's loss says so (`gaveUp`). A clearer
 * slower than that (a clear now and then) leaves the claim held most of the time: it is claimed again
 * each time, at most 4 times a minute.
 */

/** Clears within CLAIM_CLEARS_WINDOW_MS at which the run stops claiming its ids again. */
export const CLAIM_CLEARS_MAX = 5;

/** The window CLAIM_CLEARS_MAX clears are counted in. */
export const CLAIM_CLEARS_WINDOW_MS = 60_000;

/** The clears that made the run give up its claim: how many, over how long. */
export interface ClearsGivenUp {
  readonly clears: number;
  readonly withinMs: number;
}

/** The clears of one run's claim seen while its connection stayed up. */
export class ClaimClears {
  private readonly times: number[] = [];

  /** Counts a clear at `nowMs`; the clears counted once the bound is reached, undefined before. */
  add(nowMs: number): ClearsGivenUp | undefined {
    this.times.push(nowMs);
    while ((this.times[0] ?? nowMs) <= nowMs - CLAIM_CLEARS_WINDOW_MS) this.times.shift();
    if (this.times.length < CLAIM_CLEARS_MAX) return undefined;
    return { clears: this.times.length, withinMs: nowMs - (this.times[0] ?? nowMs) };
  }
}

/** The ERROR line of a claim given up. */
export function givenUpLine(what: string, topic: string, url: string, g: ClearsGivenUp): string {
  return `${what} was cleared or replaced on the broker at ${url} ${g.clears} times in ${(g.withinMs / 1000).toFixed(1)} s while its connection stayed up: something keeps clearing it (a script clearing retained messages in a loop, runs started with --fresh one after another), and claiming it again only feeds it. The run no longer claims its ids: they are unclaimed for the rest of the run, and only its nodes being online keep another run off them. Find what publishes on ${topic}`;
}
