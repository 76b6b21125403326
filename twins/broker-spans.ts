/**
 * The broker's outages as spans of time (`from`, `to` absent while one lasts), from the service's
 * `broker` events: while one lasted nothing was heard, so the share held then was not measured (the
 * charts' `broker away` band). A silence that ends with the connection dropping is the same outage,
 * from the same time; a broker not reached yet is none (nothing was heard before either). The last
 * AWAY_SPANS are kept. The convergence feed keeps them in the history file (twins/history-keeper.ts),
 * and the live views (view/live-faults.ts) hold them alike.
 */
import type { BrokerLoss } from "./broker-watch.js";

/** One outage of the broker, on the service's clock; `to` absent while it lasts. */
export interface AwaySpan {
  readonly from: number;
  readonly to?: number;
}

/** How many of the broker's last outages are kept. */
export const AWAY_SPANS = 16;

export class AwaySpans {
  private readonly spans: { from: number; to?: number }[];
  /** While the broker is away: since when, and how. */
  private lost: { readonly since: number; readonly how: BrokerLoss | "unreached" } | undefined;

  /**
   * `restored`: the spans from before a restart, oldest first, closed; `changed`: a span opened, moved
   * its start or closed (the last one), to be kept.
   */
  constructor(
    restored: readonly AwaySpan[] = [],
    private readonly changed?: (span: AwaySpan) => void,
  ) {
    this.spans = restored.slice(-AWAY_SPANS).map((s) => ({ ...s }));
  }

  /** The broker lost (`how`, last heard at `lastHeardAt`) or back (`connected`), at `now`. */
  broker(connected: boolean, now: number, lastHeardAt?: number, how?: BrokerLoss | "unreached"): void {
    if (connected) this.lost = undefined;
    else if (how === "silent") this.lost = { since: lastHeardAt ?? now, how };
    else if (how === "unreached") this.lost = { since: now, how };
    else this.lost = { since: this.lost?.since ?? now, how: "lost" };
    this.span(now);
  }

  /** The spans kept, oldest first. */
  all(): AwaySpan[] {
    return this.spans.map((s) => ({ ...s }));
  }

  /** Opens, moves the start of, or closes the outage under way, as `lost` now says. */
  private span(now: number): void {
    const last = this.spans.at(-1);
    const open = last?.to === undefined ? last : undefined;
    const lost = this.lost;
    if (lost?.how === "unreached") return;
    if (lost === undefined) {
      if (open === undefined) return;
      open.to = now;
      this.changed?.({ ...open });
      return;
    }
    if (open !== undefined) {
      if (lost.since >= open.from) return;
      open.from = lost.since;
      this.changed?.({ ...open });
      return;
    }
    const span = { from: lost.since };
    this.spans.push(span);
    if (this.spans.length > AWAY_SPANS) this.spans.shift();
    this.changed?.({ ...span });
  }
}
