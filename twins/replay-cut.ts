/**
 * Whether the broker cut its replay of the retained state it sends for a SUBSCRIBE (the one-shot
 * commands tell it: cli/commands/dropped-replay.ts; the service: twins/replay-reread.ts). Mosquitto
 * queues the retained messages of one
 * SUBSCRIBE for the client before it writes any of them, and drops each that comes while the queued
 * bytes are at `max_queued_bytes` (or the packets waiting at `max_queued_messages`): nothing is
 * written in between, so once one is dropped, every later one of that SUBSCRIBE is too. A retained
 * message the broker surely holds (WHOLE_TOPIC, Mosquitto's version, kept from its start) asked for
 * last in the same SUBSCRIBE therefore comes back only when the replay before it came whole. Measured
 * on Mosquitto 2.0.11 at `max_queued_bytes 200` beside 300 nodes: each kind's replay was cut (19
 * configs, 15 reports, 50 statuses of 300) and its copy never came; with the defaults beside 3,000
 * nodes, and at `max_queued_messages 10` beside 300, every replay came whole, each copy with it. The
 * earlier signs (Mosquitto's `$SYS` dropped count heard rising, the replay marker not back) missed
 * it in most tries: the count is published every `sys_interval` and the marker, published after the
 * SUBACKs, found the queue drained. A broker that does not hold the topic (twinfleet's, aedes) or
 * whose rules refuse it (heard nothing when asked alone, first) is not judged. The retained topics
 * heard during a read are kept until its `end`, so a re-read asks only for what did not come.
 */
import { type Subscriber, subscribeUnlessRefused } from "./subscriptions.js";

/** Retained by Mosquitto from its start (when its `$SYS` tree is on: `sys_interval` above 0). */
export const WHOLE_TOPIC = "$SYS/broker/version";

/** What the check needs of the connection beyond subscribing. */
export interface Unsubscriber {
  unsubscribeAsync(topic: string | string[]): Promise<unknown>;
}

/** What the check found: `held` false when the broker was not judged; `cut`, the filters whose replay was cut. */
export interface ReplayCutRead {
  readonly held: boolean;
  readonly cut: readonly string[];
}

export class ReplayCut {
  /** Retained copies of WHOLE_TOPIC heard so far. */
  private heard = 0;
  private held = false;
  private readonly cutFilters: string[] = [];
  /** The reads (one a connection) found cut so far, re-read or not. */
  cutReads = 0;
  /** The retained topics heard since `begin`, on a broker judged (the nodes' topics a re-read skips). */
  private readonly came = new Set<string>();
  /**
   * What this connection's read left unread: the topics its re-read did not bring
   * (twins/replay-reread.ts), or the cut filters themselves when none was made. Unknown, not lost:
   * the put-back's look takes no report of them for one the broker no longer holds (twins/put-back.ts).
   */
  unread: readonly string[] = [];

  /** A message from the broker: true when it is a copy of WHOLE_TOPIC (counted when retained). */
  message(topic: string, retained: boolean): boolean {
    if (topic !== WHOLE_TOPIC) {
      if (retained && this.held) this.came.add(topic);
      return false;
    }
    if (retained) this.heard++;
    return true;
  }

  /** Whether a retained message on `topic` came since `begin` (known only on a broker judged). */
  cameRetained(topic: string): boolean {
    return this.came.has(topic);
  }

  /**
   * A new connection: asks for WHOLE_TOPIC alone, into an empty queue, to learn whether the broker
   * holds it (its copy comes before the UNSUBACK: a broker keeps a connection's order).
   */
  async begin(client: Subscriber & Unsubscriber): Promise<void> {
    this.held = false;
    this.cutFilters.length = 0;
    this.came.clear();
    this.unread = [];
    const before = this.heard;
    if (!(await subscribeUnlessRefused(client, WHOLE_TOPIC, 0))) return;
    await client.unsubscribeAsync(WHOLE_TOPIC);
    this.held = this.heard > before;
  }

  /**
   * Subscribes to `filters` at QoS 0 in one SUBSCRIBE, WHOLE_TOPIC last when the broker holds it, and
   * notes the filters as cut when its copy did not come before the UNSUBACK that follows.
   */
  async subscribe(client: Subscriber & Unsubscriber, filters: readonly string[]): Promise<void> {
    if (!(await this.whole(client, filters))) this.cutFilters.push(...filters);
  }

  /**
   * One SUBSCRIBE of `filters` at QoS 0 as `subscribe` sends it: true when its replay came whole (or
   * the broker is not judged). With `drop`, the filters go in the UNSUBSCRIBE too: only their replay
   * was wanted (a re-read node by node), not a second copy of each live message.
   */
  async whole(client: Subscriber & Unsubscriber, filters: readonly string[], drop = false): Promise<boolean> {
    if (!this.held) {
      await client.subscribeAsync([...filters], { qos: 0 });
      if (drop) await client.unsubscribeAsync([...filters]);
      return true;
    }
    const before = this.heard;
    await client.subscribeAsync([...filters, WHOLE_TOPIC], { qos: 0 });
    await client.unsubscribeAsync(drop ? [...filters, WHOLE_TOPIC] : WHOLE_TOPIC);
    return this.heard !== before;
  }

  /** The read and its re-read are over: the topics heard are let go (30,000 nodes: 90,000 names). */
  end(): void {
    this.came.clear();
  }

  get read(): ReplayCutRead {
    return { held: this.held, cut: [...this.cutFilters] };
  }
}
