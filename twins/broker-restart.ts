/**
 * Whether the broker restarted while the service's connection was down, or only the connection
 * dropped: a broker restarted on its store replays each node's retained status as it kept it, with
 * no session of the node behind it (twins/node-presence.ts), while a broker that ran on has taken
 * every node that left since offline by its will. Told by what the broker publishes of itself,
 * retained, read at every connect (subscribed before the nodes' topics: twins/subscriptions.ts):
 * - twinfleet's broker: its start id (`$SYS/broker/start-id`, new at every start: broker/start-id.ts).
 *   Another id than the last connection's: restarted.
 * - Mosquitto: its uptime (`$SYS/broker/uptime`, `N seconds`, retained, published every
 *   `sys_interval`, 10 s by default). `now − uptime` is when it started, late by at most that
 *   interval; a start later by more than UPTIME_SLACK_MS than the last connection's: restarted.
 * A broker that publishes neither (or whose access rules refuse them) tells nothing: its nodes are
 * left to the query's look (twins/unanswered.ts), as before. The first connection compares with what
 * the service before this one on its data directory last read (`before`, recorded in the directory's
 * lock through `record` as it is read: twins/store-lock.ts), when that one left without a goodbye:
 * a power cut takes the broker, the service and the nodes together, and the service started again
 * had nothing to compare with, so it showed every dead node online by the broker's kept status until
 * the broker's --will-grace ran out. With no such record it has nothing to compare with.
 */
import type { Logger } from "pino";
import type { Scheduler } from "./clock.js";
import type { TwinsStore } from "./store.js";
import type { BrokerSeen } from "./store-lock.js";

/** twinfleet's broker's start id (the same topic as broker/start-id.ts, which twins may not import). */
export const START_ID_TOPIC = "$SYS/broker/start-id";
/** Mosquitto's uptime in whole seconds (`123 seconds`). */
export const UPTIME_TOPIC = "$SYS/broker/uptime";
/** How late an uptime may be (a retained copy up to Mosquitto's 10 s `sys_interval` old, whole seconds), and some. */
export const UPTIME_SLACK_MS = 15_000;

export class BrokerRestart {
  /** The start id heard on the connection before, and on this one. */
  private lastId: string | undefined;
  /** When the broker started by its uptime, the earliest heard of this run of it. */
  private startedAt: number | undefined;
  /** When the connection under way was made; undefined before the first. */
  private connectedAt: number | undefined;
  /** The restart of this connection's broker was told already. */
  private told = false;
  /** This connection's broker is the run the last one read (true), a restarted one (false), or not told yet. */
  private sameRun: boolean | undefined;
  /** The start id and start heard before this connection was made: what `ranOn` compares with. */
  private known: { readonly id?: string | undefined; readonly startedAt?: number | undefined } = {};
  /** What is compared with was read by the service before this one (`before`), not on a connection of this one. */
  private before = false;
  /** What was last recorded (`record`), as dates. */
  private recorded: BrokerSeen = {};
  private readonly record: ((seen: BrokerSeen) => void) | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    /**
     * The broker restarted; `since`: when the service connected to it again. `how`: what showed it.
     * `before`: since the service before this one read it, not while this one's connection was down.
     */
    private readonly restarted: (since: number, how: string, before: boolean) => void,
    kept: {
      /** What the service before this one on the data directory last read (its dates by the host's clock). */
      readonly before?: BrokerSeen;
      /** Records what is read, for the service after this one (a failure is its own to tell). */
      readonly record?: (seen: BrokerSeen) => void;
    } = {},
  ) {
    this.record = kept.record;
    const before = kept.before;
    if (before === undefined) return;
    this.before = true; // `recorded` stays empty: the lock this service holds is a new one, with nothing of it yet
    if (before.startId !== undefined) this.lastId = before.startId;
    if (before.startedAt !== undefined) this.startedAt = before.startedAt - this.dateOffset();
  }

  /** `wallNow() - now()`: a time on `now()` to its date by the host's clock. */
  private dateOffset(): number {
    return this.scheduler.wallNow() - this.scheduler.now();
  }

  /** The connection is made (before subscribing): what the broker says of itself is judged against the last one. */
  connected(): void {
    if (this.connectedAt !== undefined) this.before = false; // compared with this service's own connection from now on
    this.connectedAt = this.scheduler.now();
    this.told = false;
    this.sameRun = undefined;
    this.known = { id: this.lastId, startedAt: this.startedAt };
  }

  /**
   * Whether this connection's broker ran on since the last connection (or the service before this
   * one) read it: true when its start id or uptime says so, false when it restarted, undefined while
   * it said neither (or there was nothing to compare with). A broker that ran on lost no retained
   * report it held: one it has not replayed yet is only late (twins/put-back.ts).
   */
  ranOn(): boolean | undefined {
    return this.sameRun;
  }

  /** Records what was read when it differs from what was recorded (the uptime's start by more than a second). */
  private keep(): void {
    if (this.record === undefined) return;
    const startedAt = this.startedAt === undefined ? undefined : this.startedAt + this.dateOffset();
    const moved =
      startedAt !== undefined &&
      (this.recorded.startedAt === undefined || Math.abs(startedAt - this.recorded.startedAt) >= 1000);
    if (this.lastId === this.recorded.startId && !moved) return;
    this.recorded = {
      ...(this.lastId !== undefined ? { startId: this.lastId } : {}),
      ...(startedAt !== undefined ? { startedAt } : {}),
    };
    this.record(this.recorded);
  }

  /** A message from the broker: true when it is one of its markers (judged here, not a node's). */
  message(topic: string, payload: Buffer): boolean {
    if (topic === START_ID_TOPIC) {
      const id = payload.toString("latin1");
      if (this.lastId !== undefined && id !== this.lastId && id !== "") this.tell("its start id changed");
      else if (this.known.id !== undefined && id === this.known.id) this.sameRun ??= true;
      if (id !== "") this.lastId = id;
      this.keep();
      return true;
    }
    if (topic !== UPTIME_TOPIC) return false;
    const m = /^(\d{1,12}) seconds?$/.exec(payload.toString("latin1").trim());
    if (m === null) return true;
    const start = this.scheduler.now() - Number(m[1]) * 1000;
    if (this.startedAt !== undefined && start > this.startedAt + UPTIME_SLACK_MS) {
      this.startedAt = start;
      this.tell(`its uptime ($SYS/broker/uptime) is ${m[1]} s`);
    } else {
      const known = this.known.startedAt;
      if (known !== undefined && start <= known + UPTIME_SLACK_MS) this.sameRun ??= true;
      this.startedAt = Math.min(this.startedAt ?? start, start);
    }
    this.keep();
    return true;
  }

  private tell(how: string): void {
    this.sameRun = false;
    if (this.told || this.connectedAt === undefined) return;
    this.told = true;
    this.restarted(this.connectedAt, how, this.before);
  }
}

/**
 * A service's judge of its broker's restarts: its first connection compared with what the service
 * before it on its store read, and what it reads recorded there (a passive service stores nothing; a
 * record that fails leaves the next service as without one).
 */
export function serviceRestart(
  opts: {
    readonly scheduler: Scheduler;
    readonly store: TwinsStore;
    readonly logger: Logger;
    readonly passive: boolean;
  },
  restarted: (since: number, how: string, before: boolean) => void,
): BrokerRestart {
  const { store, logger } = opts;
  const record = opts.passive
    ? undefined
    : (seen: BrokerSeen) =>
        void store
          .sawBroker?.(seen)
          .catch((err: unknown) =>
            logger.debug({ err }, "twins: the broker's start was not recorded in the store"),
          );
  return new BrokerRestart(opts.scheduler, restarted, {
    ...(store.brokerSeen !== undefined ? { before: store.brokerSeen } : {}),
    ...(record !== undefined ? { record } : {}),
  });
}
