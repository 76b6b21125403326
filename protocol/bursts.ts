/**
 * Events of one key that come too often: `count` of them within `windowMs` make a burst, told at most
 * once per `repeatMs` for that key (Infinity: once ever). What the broker counts of a client id's
 * takeovers, the twins of a node's going offline, and a fleet run of a node's sessions the broker
 * closed. At most `maxKeys` keys are followed (the oldest forgotten first).
 */
export class Bursts<K> {
  /** Each key's last `count` event times, oldest first, and when its burst was last told. */
  private readonly keys = new Map<K, { readonly times: number[]; toldAt: number }>();

  constructor(
    private readonly count: number,
    private readonly windowMs: number,
    private readonly repeatMs = Number.POSITIVE_INFINITY,
    private readonly maxKeys = Number.POSITIVE_INFINITY,
  ) {}

  /** An event of `key` at `at`: how long its last `count` events took when that is a burst to tell now. */
  hit(key: K, at: number): number | undefined {
    let k = this.keys.get(key);
    if (k === undefined) {
      if (this.keys.size >= this.maxKeys) this.keys.delete(this.keys.keys().next().value as K);
      k = { times: [], toldAt: Number.NEGATIVE_INFINITY };
      this.keys.set(key, k);
    }
    k.times.push(at);
    if (k.times.length > this.count) k.times.shift();
    const within = at - (k.times[0] as number);
    if (k.times.length < this.count || within > this.windowMs || at - k.toldAt < this.repeatMs)
      return undefined;
    k.toldAt = at;
    return within;
  }

  /** Stops following `key` (gone for good): its next event starts afresh. */
  forget(key: K): void {
    this.keys.delete(key);
  }

  /** Keys followed (for tests). */
  get size(): number {
    return this.keys.size;
  }
}
