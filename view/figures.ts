/**
 * A fleet's figures for a metrics endpoint, read when scraped: a fleet run's (the checker's sync
 * latencies, late and lost pairs, reconnects, the broker's clients and messages, the twins' bad
 * input, each thread's event-loop lag) and a live fleet's (what its twins service counts).
 */
import type { FleetRun } from "../fleet/run.js";
import type { Twins } from "../twins/index.js";

/** The shape web/metrics.ts reads (kept here so the view does not import the web). */
export interface Figures {
  latencySince?(): readonly number[];
  late?(): number;
  lost?(): number;
  reconnects?(): number;
  brokerClients?(): number;
  brokerMessages?(): { readonly in: number; readonly out?: number };
  badInput?(): Readonly<Record<string, number>>;
  lagP99Ms?(): Readonly<Record<string, number>>;
}

export function simFigures(run: FleetRun): Figures {
  const checker = run.collector.checker;
  let taken = 0;
  return {
    latencySince() {
      const all = checker.pairs().latencyMs;
      const out: number[] = [];
      for (; taken < all.length; taken++) {
        const ms = all[taken] as number;
        if (Number.isFinite(ms)) out.push(ms);
      }
      return out;
    },
    late: () => checker.counts().late,
    lost: () => checker.counts().lost,
    reconnects: () => run.collector.disconnects,
    badInput: () => run.twins.badInput().byReason,
    lagP99Ms: () => run.lagP99ByThread(),
    brokerClients: () => run.brokerStats()?.clients ?? 0,
    brokerMessages: () => {
      const b = run.brokerStats();
      return { in: b?.messagesIn ?? 0 };
    },
  };
}

/** A live fleet through its twins service: bad input by reason. */
export function twinsFigures(twins: Pick<Twins, "badInput">): Figures {
  return { badInput: () => twins.badInput().byReason };
}
