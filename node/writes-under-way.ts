/**
 * The writes to a disk begun and not yet ended, each with what it is and since when: the one record
 * behind both services' words for a disk that stops answering (a frozen file system, a hung disk or
 * network volume: nothing fails, the writes just do not end). The broker's store (broker/store-writes.ts,
 * broker/store-stall.ts) and the twins' saver (twins/disk-stall.ts) each judge a stall their own way
 * and say it in their own words; both name the oldest write under way and how long it has waited,
 * from here. Times are those of the clock the caller gives (an injected Scheduler's `now`).
 */

/** What a write that does not end means, as both services' lines say it. */
export const DISK_NOT_ANSWERING =
  "its disk or file system is not answering (frozen? fsfreeze -u thaws it; a hung disk or network volume?)";

/** A wait in whole seconds, as those lines give it: `9 s`. */
export const wholeSeconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** One write under way: what it is, as the caller names it, and when it began. */
export interface WriteUnderWay<W> {
  readonly what: W;
  readonly since: number;
}

export class WritesUnderWay<W> {
  readonly #underWay = new Map<number, WriteUnderWay<W>>();
  #next = 0;

  constructor(private readonly now: () => number) {}

  /** A write begins; its token ends it. */
  begin(what: W): number {
    const token = this.#next++;
    this.#underWay.set(token, { what, since: this.now() });
    return token;
  }

  /** The write of `token` ended, either way: it, with how long it ran (undefined if it had ended). */
  end(token: number): (WriteUnderWay<W> & { readonly ms: number }) | undefined {
    const w = this.#underWay.get(token);
    if (w === undefined) return undefined;
    this.#underWay.delete(token);
    return { ...w, ms: this.now() - w.since };
  }

  /** How many are under way. */
  get size(): number {
    return this.#underWay.size;
  }

  /** The one under way longest (the first begun: a Map keeps the order of insertion). */
  oldest(): WriteUnderWay<W> | undefined {
    for (const w of this.#underWay.values()) return w;
    return undefined;
  }

  /** How long the oldest has waited, in ms; undefined while none is under way. */
  oldestWaitMs(): number | undefined {
    const w = this.oldest();
    return w === undefined ? undefined : this.now() - w.since;
  }
}
