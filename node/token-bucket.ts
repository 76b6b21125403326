/**
 * A token bucket: a level that refills at so many tokens a second up to its burst, read and spent by
 * its owner (the broker's per-client publish budget, broker/publish-budget.ts; the web servers'
 * per-address bounds, web/address-bounds.ts). Times are the caller's clock, in ms; a clock read
 * earlier than the last refill adds nothing.
 */
export class TokenBucket {
  /** Tokens there now: spent by the owner (it may take it below zero where its rule allows). */
  level: number;
  private at: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    now: number,
  ) {
    this.level = burst;
    this.at = now;
  }

  /** Adds what `now` brings since the last refill, up to the burst; the level then. */
  refill(now: number): number {
    const s = Math.max(0, now - this.at) / 1000;
    this.at = Math.max(this.at, now);
    this.level = Math.min(this.burst, this.level + s * this.perSecond);
    return this.level;
  }

  /** Whether the bucket holds its whole burst (after a refill). */
  get full(): boolean {
    return this.level >= this.burst;
  }
}
