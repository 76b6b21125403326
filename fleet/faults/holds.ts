/**
 * Who holds what while faults overlap. A broker, the twins service, a node's power or cable is taken
 * by the first fault on it and given back by the last: two partitions of one node, 1-6 s and 3-33 s,
 * keep its cable out until 33 s, where each undoing its own step plugged it back in at 6 s. Loss
 * bursts stack: the one started last sets the loss, and as each ends the loss goes back to the one
 * under it, or to the loss before the first.
 */

/** How many faults hold each key. */
export class Holds<K> {
  private readonly counts = new Map<K, number>();

  /** Takes every key once; returns those no fault held before (to be put in the fault's state now). */
  take(keys: Iterable<K>): K[] {
    const first: K[] = [];
    for (const k of keys) {
      const n = this.counts.get(k) ?? 0;
      this.counts.set(k, n + 1);
      if (n === 0) first.push(k);
    }
    return first;
  }

  /** Gives every key back once; returns those no fault holds any more (to be put back now). */
  give(keys: Iterable<K>): K[] {
    const last: K[] = [];
    for (const k of keys) {
      const n = this.counts.get(k) ?? 0;
      if (n <= 1) {
        this.counts.delete(k);
        if (n === 1) last.push(k);
      } else this.counts.set(k, n - 1);
    }
    return last;
  }
}

/** The loss set by faults: bursts stacked over the loss below them, steps that stay. */
export class LossLayers {
  private readonly bursts: { readonly pct: number }[] = [];
  private under = 0;
  /** The loss last set here: another hand (the console) that changed it since is left alone. */
  private set: number | undefined;

  constructor(
    private readonly lossPct: () => number,
    private readonly setLoss: (pct: number) => void,
  ) {}

  /** A step: the loss from now on, bursts in progress included (they end without undoing it). */
  step(pct: number): void {
    this.bursts.length = 0;
    this.under = pct;
    this.apply(pct);
  }

  /** A burst begins; the returned function ends it. */
  burst(pct: number): () => void {
    if (this.bursts.length === 0) this.under = this.lossPct();
    const layer = { pct };
    this.bursts.push(layer);
    this.apply(pct);
    return () => {
      const i = this.bursts.indexOf(layer);
      if (i < 0) return; // a step since has taken over
      this.bursts.splice(i, 1);
      if (this.lossPct() !== this.set) return;
      const now = this.bursts.at(-1)?.pct ?? this.under;
      if (now !== this.lossPct()) this.apply(now);
    };
  }

  private apply(pct: number): void {
    this.set = pct;
    this.setLoss(pct);
  }
}
