/**
 * What the broker says of the clients its publish budget holds back (broker/publish-budget.ts): the
 * counts `/metrics` reads (held publishes, holds, clients held now) and one warning per client and
 * minute naming it, its address, the budget and what was held since its last line.
 */
import type { Logger } from "pino";
import type { BrokerTally } from "./figures.js";
import { type OutboundClock, systemClock } from "./outbound.js";
import type { PublishBudgetLimits, PublishPacing } from "./publish-budget.js";

/** A client held again within this long of its last line is counted into its next line, not logged. */
export const PACED_LOG_EVERY_MS = 60_000;
/** Clients remembered for the log's rate limit; past it, those not logged within the minute are forgotten. */
const MAX_REMEMBERED = 10_000;

interface Remembered {
  loggedAt: number;
  /** Publishes held since the client's last line. */
  held: number;
}

interface ConnView {
  readonly client?: { readonly id?: string | null };
  readonly remoteAddress?: string;
}

const idOf = (conn: object) => (conn as ConnView).client?.id ?? undefined;

/** The budget every connection of one broker gets, its holds counted in `tally` and logged. */
export function pacedClients(
  limits: PublishBudgetLimits,
  logger: Logger,
  tally: BrokerTally,
  clock: OutboundClock = systemClock,
): PublishPacing {
  const remembered = new Map<string, Remembered>();
  const held = new WeakMap<object, number>();
  const forgetOld = (now: number) => {
    if (remembered.size < MAX_REMEMBERED) return;
    for (const [id, r] of remembered) if (now - r.loggedAt >= PACED_LOG_EVERY_MS) remembered.delete(id);
  };
  return {
    limits,
    clock,
    held(conn, n) {
      tally.publishesPaced += n;
      held.set(conn, (held.get(conn) ?? 0) + n);
    },
    hold(conn, on) {
      if (!on) {
        tally.clientsPaced--;
        return;
      }
      tally.clientsPaced++;
      tally.publishHolds++;
      const now = clock.now();
      const id = idOf(conn);
      const key = id ?? `address ${(conn as ConnView).remoteAddress ?? "unknown"}`;
      const since = held.get(conn) ?? 0;
      held.set(conn, 0);
      const r = remembered.get(key);
      if (r !== undefined && now - r.loggedAt < PACED_LOG_EVERY_MS) {
        r.held += since;
        return;
      }
      forgetOld(now);
      remembered.set(key, { loggedAt: now, held: 0 });
      logger.warn(
        {
          clientId: id,
          address: (conn as ConnView).remoteAddress,
          held: since + (r?.held ?? 0),
          publishRate: limits.publishRate,
          publishBurst: limits.publishBurst,
          publishBytesRate: limits.publishBytesRate,
        },
        "client publishing past its budget: its socket is read more slowly (--publish-rate, --publish-burst, --publish-bytes-rate); nothing is dropped",
      );
    },
  };
}
