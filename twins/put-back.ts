/**
 * Puts a node's report back on the broker when the broker holds an older one than its twin, or none
 * (twins/broker-copy.ts; protocol §6, "The broker's copy"): the twin's value and stamp, retained, as
 * the node published them. The node adopts it at its sync, or at once if synced (§5.3), and its
 * followers take it as any newer report. A passive service puts nothing back. A put-back the broker
 * cannot take (it is away) waits for the next subscription, which looks at every twin again.
 *
 * "None replayed" is judged once the replay is over: a broker sends a subscription's retained
 * messages after its SUBACK, one by one, and a durable broker restarted with 200 nodes' reports was
 * still sending them when the service had subscribed: every twin looked unreplayed, and all 199 were
 * put back over the broker's own copies, and said so. The look waits for the replay's end, as the
 * service's other looks at the replayed state do (twins/replay-end.ts). Once it is over, the nodes whose report the
 * broker no longer held (none replayed, or an older one than the twin's) are told in one count (the
 * service's `put-back` event: a run's report lists them under the broker outage that lost them).
 *
 * Quiet is not the end, though: a broker that ran on (twins/broker-restart.ts) still holds every
 * report it held, and one not replayed yet is late, not lost. The twins service stopped 90 s
 * (`kill -STOP`) beside 1,500 nodes reconnected to a broker that ran on, whose replay paused past
 * the quiet time: the 898 twins not replayed yet, 90 s old, were put back over the nodes' newer
 * reports, and the echoes of those, older than the broker's copies replayed after them, put twins
 * back 2,975 times more (twinfleet sim: 607 deliveries later than 5 s). Now nothing goes back
 * for a report not replayed from a broker that ran on; a replayed copy older than the twin's (a node
 * that rebooted meanwhile to its power-on state) still goes back, judged by its stamp. Nor, from any
 * broker, for a node heard online since the subscription: it synced against the broker's copy, and
 * published its own report over one missing or older (seen live, and judged by its stamp).
 *
 * Nor is quiet the end on a broker that restarted, or says nothing of its starts: a replay pausing
 * past the quiet time on a loaded host (1,500 nodes, a `broker --data` killed and started again on
 * its store while the service was stopped) had 1,096 twins put back over the nodes' newer reports
 * the broker still held. Where there is a replay marker (twins/replay-marker.ts: over a URL), the
 * wait is for it: published after the subscriptions, it comes back after their retained messages
 * on a broker that keeps a client's order (twinfleet's broker: broker/retained-order.ts; Mosquitto),
 * and the look then waits for the quiet time after it. Its end so marked, a report a broker
 * that ran on did not replay is one cleared while the service was away, and the twin forgets it as
 * it forgets a clear it sees (twins/cleared.ts): it kept showing the cleared report until the node
 * reported again. Quiet alone (no marker, refused, or not back within REPLAY_WAIT_MAX_MS) still
 * ends a look, and puts back and forgets as before the marker (a report it takes for cleared is
 * left shown).
 *
 * Nor, from any broker, for a report the broker cut from its replay (twins/replay-cut.ts) and the
 * re-read did not bring (twins/replay-reread.ts: past its SUBSCRIBEs' bound, or none made): unknown,
 * not lost. The re-read is over before the look's wait begins (at the last SUBACK); what it left is
 * ReplayCut.unread. A Mosquitto with a short `max_queued_bytes`, restarted, had each of those twins'
 * older reports put back over its newer copies.
 */
import type { Logger } from "pino";
import {
  allNodesTopic,
  formatStamp,
  type Message,
  type NodeId,
  type Prefix,
  topicOf,
} from "../protocol/index.js";
import { configBehindLine } from "./broker-copy.js";
import type { BrokerRestart } from "./broker-restart.js";
import type { Scheduler } from "./clock.js";
import type { RegistryEffect } from "./effects.js";
import type { TwinRegistry } from "./registry.js";
import type { ReplayCut } from "./replay-cut.js";
import type { ReplayEnd } from "./replay-end.js";

export class PutBack {
  private readonly deps: {
    readonly registry: TwinRegistry;
    readonly send: (msg: Message) => Promise<void>;
    readonly logger: Logger;
    readonly passive: boolean;
    readonly scheduler: Scheduler;
    readonly told: (nodes: number) => void;
    /** Whether the broker ran on since the twins' reports were read from it (BrokerRestart.ranOn). */
    readonly ranOn: () => boolean | undefined;
    /** The topics this connection's read left unread (cut, and not re-read: ReplayCut.unread). */
    readonly unread: () => readonly string[];
    /** The service's one wait for the replay's end (twins/replay-end.ts). */
    readonly end: Pick<ReplayEnd, "onceOver">;
    /** Applies the effects of a report found cleared (none: not forgotten). */
    readonly apply: ((fx: readonly RegistryEffect[]) => void) | undefined;
    readonly prefix: Prefix;
  };
  /** During a look: the nodes whose replayed report was older than the twin's, put back one by one. */
  private readonly olderReplayed = new Set<NodeId>();
  /** When the look under way began (the subscription). */
  private began = Number.NEGATIVE_INFINITY;
  private settle: { cancel(): void } | undefined;

  constructor(
    registry: TwinRegistry,
    opts: {
      readonly logger: Logger;
      readonly passive: boolean;
      readonly scheduler: Scheduler;
      readonly prefix: Prefix;
    },
    send: (msg: Message) => Promise<void>,
    /** When the replay after a subscription is over (twins/replay-end.ts). */
    end: Pick<ReplayEnd, "onceOver">,
    /** Told after a look how many nodes' reports the broker no longer held and were put back (none: not told). */
    events?: { emit(event: "put-back", nodes: number): unknown },
    /** The connection, which tells whether its broker ran on (none: not told). */
    link?: {
      readonly restart?: Pick<BrokerRestart, "ranOn">;
      readonly replayMarker?: { readonly cut: Pick<ReplayCut, "unread"> };
    },
    apply?: (fx: readonly RegistryEffect[]) => void,
  ) {
    const { logger, passive, scheduler, prefix } = opts;
    const told = (nodes: number) => events?.emit("put-back", nodes);
    const ranOn = () => link?.restart?.ranOn();
    const unread = () => link?.replayMarker?.cut.unread ?? [];
    this.deps = { registry, send, logger, passive, scheduler, told, ranOn, unread, end, apply, prefix };
  }

  /** After a subscription, once the broker's replay is over: every twin whose report it did not replay. */
  all(): void {
    if (this.deps.passive) return;
    this.stop();
    this.olderReplayed.clear();
    this.began = this.deps.scheduler.now();
    // The replay may be over already (the wait began at the last SUBACK): the look is then made at once.
    let over = false;
    const settle = this.deps.end.onceOver((marked) => {
      over = true;
      this.settle = undefined;
      this.unreplayed(marked);
    });
    if (!over) this.settle = settle;
  }

  /** The service closes (or subscribes again): no look is left waiting. */
  stop(): void {
    this.settle?.cancel();
    this.settle = undefined;
  }

  /** The replay is over (`marked`: its end shown by the marker, not only by quiet). */
  private unreplayed(marked: boolean): void {
    const { registry, ranOn, logger } = this.deps;
    const older = new Set(registry.putBacksDue(false));
    // A node heard online since the subscription synced against the broker's copy: it published its
    // own report over one it lacked or held older (seen, and judged by its stamp), or it has it.
    const heard = (n: NodeId) => {
      const t = registry.get(n);
      return t?.presence === "online" && (t.lastSeen ?? this.began) > this.began;
    };
    let nodes = registry.putBacksDue().filter((n) => older.has(n) || !heard(n));
    // Cut from the replay and not re-read (twins/replay-reread.ts): unknown, not lost, whatever the
    // broker's starts; its copy may be newer than the twin's (told in the replay-cut warning).
    const topics = new Set(this.deps.unread());
    const all = topics.has(allNodesTopic(this.deps.prefix, "report"));
    const unread = new Set(
      nodes.filter((n) => !older.has(n) && (all || topics.has(topicOf(this.deps.prefix, "report", n)))),
    );
    nodes = nodes.filter((n) => !unread.has(n));
    const late = nodes.filter((n) => !older.has(n));
    if (late.length > 0 && ranOn() === true) {
      // Not replayed yet by a broker that ran on: its copy is late, and no older than the twin's.
      nodes = nodes.filter((n) => older.has(n));
      if (marked) this.cleared(late);
      else
        logger.info(
          { nodes: late.length, first: late.slice(0, 5) },
          "twins: the broker ran on and has not replayed every node's report yet: it still holds them, and their twins' are not put back",
        );
    }
    const lost = new Set([...this.olderReplayed, ...nodes]).size;
    this.olderReplayed.clear();
    if (lost > 0) this.deps.told(lost);
    if (nodes.length === 0) return;
    this.deps.logger.info(
      { nodes: nodes.length, first: nodes.slice(0, 5), unread: unread.size },
      "twins: the broker holds no report of nodes it had: putting their twins' back",
    );
    for (const node of nodes) this.one(node, false);
  }

  /**
   * Reports a broker that ran on did not replay, its replay over by the marker: cleared while the
   * service was away (it lost nothing it held). The twins forget them as a clear seen live.
   */
  private cleared(nodes: readonly NodeId[]): void {
    const { registry, apply, prefix, scheduler, logger } = this.deps;
    if (apply === undefined) return;
    const now = scheduler.now();
    apply(nodes.flatMap((n) => registry.receive(topicOf(prefix, "report", n), "", 1, now)));
    logger.info(
      { nodes: nodes.length, first: nodes.slice(0, 5) },
      "twins: the broker ran on and no longer holds these nodes' reports (cleared while the service was away): their twins forget them, as a clear seen",
    );
  }

  /** The broker's config of a node is older than the twin's: told (the pairing is pending again, and sent). */
  configBehind(e: { node: NodeId; version: number; twin: number }): void {
    this.deps.logger.info({ node: e.node, version: e.version, twin: e.twin }, configBehindLine(e));
  }

  /** The broker's report of `node` is older than the twin's: the twin's goes back. */
  one(node: NodeId, tell = true): void {
    const reported = this.deps.registry.get(node)?.reported;
    if (reported === undefined || this.deps.passive) return;
    // Older than the twin's while the replay after a subscription goes on: the broker's, kept from before.
    if (this.settle !== undefined) this.olderReplayed.add(node);
    const msg: Message = { kind: "report", node, on: reported.on, stamp: reported.stamp };
    if (tell) {
      this.deps.logger.info(
        { node, stamp: formatStamp(reported.stamp) },
        "twins: the broker holds an older report of the node than its twin (it lost the newer one): putting the twin's back",
      );
    }
    this.deps.send(msg).catch((err: unknown) => {
      this.deps.logger.debug({ node, err: String(err) }, "twins: putting a report back waits for the broker");
    });
  }
}
