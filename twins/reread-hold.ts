/**
 * The one rule for the service's own re-read of the broker's retained state (a subscription's
 * replay: at a start, and after each reconnect; over once no retained message came for 0.5 s after
 * the last SUBACK: twins/origin-wait.ts ReplayEnd). Meanwhile the share the service computes is its own
 * view half refreshed, not the fleet's: a follower whose source's newer report was replayed, its own
 * not yet, is shown behind. So a point measured during the re-read carries the share from before it
 * (`fraction`, `inSync`, `known` of the series' last point as the re-read began), marked `held`, its
 * `online` and `unheard` as measured; the first point after it is the share measured then. The fine
 * series (`/api/convergence`, the page's recent chart), the minutes (twins/minute-tier.ts, which
 * take these points as they come) and the minutes rebuilt from the kept points at a restart
 * (twins/history-restore.ts) all read the same points: the rule is applied here only.
 */
import type { SeriesPoint } from "./types.js";

/** The share a point says: what the rule holds through a re-read. */
type Share = Pick<SeriesPoint, "fraction" | "inSync" | "known">;

/**
 * The share to show now: the one measured (`now`), or while the service's re-read is under way (the
 * series' last point held) the one held from before it, `held`. The figure, `/metrics` and the page's
 * recent chart (drawn from the figure as it moves) take it: they showed the re-read's half-refreshed
 * view as a dip of the fleet at each reconnect, as the series did.
 */
export function shownShare(now: Share, series: readonly SeriesPoint[]): Share & { readonly held?: true } {
  const last = series.at(-1);
  const { fraction, inSync, known } = last?.held === true ? last : now;
  return { fraction, inSync, known, ...(last?.held === true ? { held: true as const } : {}) };
}

export class RereadHold {
  private under = false;
  private before: Share | undefined;
  /** A point measured in the re-read was held or left out: the first after it is added whatever it says. */
  private touched = false;

  /** Whether a re-read is under way. */
  get rereading(): boolean {
    return this.under;
  }

  /**
   * A re-read begins; `last`, the series' last point, says the share from before (none: the service's
   * first read of the fleet, nothing measured before it). A re-read begun while one is under way (a
   * reconnect within a replay) goes on holding the share from before the first.
   */
  begin(last: SeriesPoint | undefined): void {
    if (this.under) return;
    this.under = true;
    this.before =
      last === undefined ? undefined : { fraction: last.fraction, inSync: last.inSync, known: last.known };
  }

  /**
   * The point to add for `p`, measured now: `p` itself outside a re-read; within one, `p` with the
   * share from before, `held`; undefined where there is no share from before (nothing to show yet).
   */
  shown(p: SeriesPoint): SeriesPoint | undefined {
    if (!this.under) return p;
    this.touched = true;
    const before = this.before;
    return before === undefined ? undefined : { ...p, ...before, held: true };
  }

  /**
   * The re-read is over. True when a point measured in it was held or left out: the share measured
   * now is to be added as the next point, even with the same figures (it ends the held stretch).
   */
  end(): boolean {
    if (!this.under) return false;
    this.under = false;
    this.before = undefined;
    const touched = this.touched;
    this.touched = false;
    return touched;
  }
}
