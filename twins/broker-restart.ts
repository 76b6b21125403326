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
 * left to the query's look (twins/unanswered.ts), as before. The first connection has nothing to
 * compare with.
 */
import type { Scheduler } from "./clock.js";

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

  constructor(
    private readonly scheduler: Scheduler,
    /** The broker restarted; `since`: when the service connected to it again. `how`: what showed it. */
    private readonly restarted: (since: number, how: string) => void,
  ) {}

  /** The connection is made (before subscribing): what the broker says of itself is judged against the last one. */
  connected(): void {
    this.connectedAt = this.scheduler.now();
    this.told = false;
  }

  /** A message from the broker: true when it is one of its markers (judged here, not a node's). */
  message(topic: string, payload: Buffer): boolean {
    if (topic === START_ID_TOPIC) {
      const id = payload.toString("latin1");
      if (this.lastId !== undefined && id !== this.lastId && id !== "") this.tell("its start id changed");
      if (id !== "") this.lastId = id;
      return true;
    }
    if (topic !== UPTIME_TOPIC) return false;
    const m = /^(\d{1,12}) seconds?$/.exec(payload.toString("latin1").trim());
    if (m === null) return true;
    const start = this.scheduler.now() - Number(m[1]) * 1000;
    if (this.startedAt !== undefined && start > this.startedAt + UPTIME_SLACK_MS) {
      this.startedAt = start;
      this.tell(`its uptime ($SYS/broker/uptime) is ${m[1]} s`);
    } else this.startedAt = Math.min(this.startedAt ?? start, start);
    return true;
  }

  private tell(how: string): void {
    if (this.told || this.connectedAt === undefined) return;
    this.told = true;
    this.restarted(this.connectedAt, how);
  }
}
