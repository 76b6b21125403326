/**
 * Whether the twins service queries the fleet (`Q1`) when its connection comes back. A query makes
 * every live node answer at once with its register and report, on top of the broker's replay of
 * every node's retained config, status and report: with 1,500 nodes, pairs pressed in the 10 s after
 * the service resumed from a stop were later than 1 s at 25 to 65 % (p99 3.7 to 5.6 s), against
 * none without the stop (docs/twins.md, "A reconnect to a broker that ran on").
 *
 * On a re-connect to a broker that ran on (its start id or uptime unchanged: twins/broker-restart.ts)
 * the replay already tells the service what the answers would: each node's config and report as the
 * broker holds them, and its presence by its retained status, which its will took offline if it left
 * while the service was away. What only a register gives is the node's register itself, for a node
 * that came online while the service was away (a twin held offline, or a node never seen, shown
 * online by its retained status): its identity, and the pending pairings and sets the service sends
 * when it registers (protocol.md §6). So no query goes at such a re-connect; once the replay is over
 * (the service's one wait for it, twins/replay-end.ts), * the service queries only if some twin shown online has not registered since it came online (the
 * protocol has only a broadcast `Q1`), looked at again at the replay's longest wait when none had. A first connection, a restarted broker (it lost its
 * connections: every node reconnects and registers anyway), or one that tells neither, is queried as
 * before.
 */
import type { Logger } from "pino";
import type { NodeId } from "../protocol/index.js";
import { after, type Scheduler } from "./clock.js";
import { REPLAY_WAIT_MAX_MS, type ReplayEnd } from "./replay-end.js";
import type { TwinRecord } from "./twin-record.js";

/** How many node ids the query's line names before summing the rest. */
const NAMED = 5;

export interface ReconnectQueryDeps {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly url: string;
  readonly prefix: string;
  /**
   * A passive service queries only on reconnecting, if told to (queryOnReconnect), and then at every
   * reconnect: an observer hears the registers of the nodes that synced again while it was away
   * (their retained status unchanged), which a fleet run's fault analysis counts.
   */
  readonly passive: boolean;
  readonly queryOnReconnect: boolean;
  /** A one-shot tool does not make the whole fleet answer: the retained state tells it enough. */
  readonly queryOnConnect: boolean;
  /** Whether the broker ran on since the last connection read it (BrokerRestart.ranOn). */
  readonly ranOn: () => boolean | undefined;
  /**
   * The service's one wait for its replay's end (twins/replay-end.ts: the replay marker back, then
   * the quiet time). It ended on the quiet time alone: a replay pausing past it on a loaded host had
   * the twins looked at from a part of it.
   */
  readonly end: Pick<ReplayEnd, "onceOver">;
  /** Each twin's presence and whether it registered since it came online. */
  readonly twins: () => Iterable<Pick<TwinRecord, "id" | "presence" | "registeredSinceOnline">>;
  /** Sends the query (an active service's own also starts the look for nodes not answering). */
  readonly query: () => Promise<void>;
}

/** The twins shown online that have not registered since they came online, sorted. */
export function unregisteredOnline(twins: ReturnType<ReconnectQueryDeps["twins"]>): NodeId[] {
  const out: NodeId[] = [];
  for (const t of twins) if (t.presence === "online" && !t.registeredSinceOnline) out.push(t.id);
  return out.sort();
}

export class ReconnectQuery {
  private settle: { cancel(): void } | undefined;

  constructor(private readonly deps: ReconnectQueryDeps) {}

  /**
   * The service subscribed (`again`: not its first connection): queries now, as before, or, when the
   * broker ran on, not now, and looks at the twins once the replay is over. One line says which.
   */
  async connected(again: boolean): Promise<void> {
    this.stop();
    const { scheduler, end, logger } = this.deps;
    const where = { url: this.deps.url, prefix: this.deps.prefix };
    if (this.deps.passive) {
      if (again && this.deps.queryOnReconnect) await this.deps.query();
      return logger.info(where, "twins: connected (passive)");
    }
    if (!this.deps.queryOnConnect) return logger.info(where, "twins: connected (no query)");
    if (again && this.deps.ranOn() === true) {
      const began = scheduler.now();
      this.settle = end.onceOver(() => this.replayed(began));
      return logger.info(where, RAN_ON_LINE);
    }
    await this.deps.query();
    logger.info(where, "twins: connected and queried");
  }

  /**
   * The replay is over (its marker back, then the quiet time; or the quiet time alone, without a
   * marker): the twins are looked at. A replay that pauses past the quiet time (1,500 nodes' replay
   * did, for seconds) with no marker to wait for can bring a status later: with nothing to ask for yet,
   * they are looked at again at the replay's longest wait (REPLAY_WAIT_MAX_MS from `began`).
   */
  private replayed(began: number): void {
    this.settle = undefined;
    const { logger, scheduler } = this.deps;
    const nodes = unregisteredOnline(this.deps.twins());
    const last = began + REPLAY_WAIT_MAX_MS;
    if (nodes.length === 0 && scheduler.now() < last)
      this.settle = after(scheduler, last - scheduler.now(), () => this.replayed(began));
    if (nodes.length === 0) return;
    const more = nodes.length > NAMED ? `, … ${nodes.length - NAMED} more` : "";
    logger.info(
      { nodes: nodes.length },
      `twins: ${nodes.length} node(s) came online while the service was away and have not registered since (${nodes.slice(0, NAMED).join(", ")}${more}): querying, so they register and are sent what is pending for them`,
    );
    this.deps
      .query()
      .catch((err: unknown) =>
        logger.warn({ err }, "twins: the query after the broker's replay was not sent"),
      );
  }

  /** The service closes (or subscribes again): no look is left waiting. */
  stop(): void {
    this.settle?.cancel();
    this.settle = undefined;
  }
}

/** The line of a re-connect to a broker that ran on, which sends no query. */
export const RAN_ON_LINE =
  "twins: connected again to a broker that ran on (its start id or uptime unchanged): its retained configs, statuses and reports tell every node, so no query is sent (every node answering at once made the fleet's pairs late)";

/** The service's: its options, what its link read of the broker's start, its registry, its wait for the replay's end. */
export function connectQueryOf(
  opts: Omit<ReconnectQueryDeps, "ranOn" | "end" | "twins" | "query">,
  link: { readonly restart?: { ranOn(): boolean | undefined } },
  registry: { seen: ReconnectQueryDeps["twins"] },
  end: ReconnectQueryDeps["end"],
  query: () => Promise<void>,
): ReconnectQuery {
  const ranOn = () => link.restart?.ranOn();
  return new ReconnectQuery({
    ...opts,
    ranOn,
    end,
    twins: () => registry.seen(),
    query,
  });
}
