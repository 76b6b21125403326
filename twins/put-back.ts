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
 * put back over the broker's own copies, and said so. The look waits until no retained message has
 * come for REPLAY_SETTLE_MS, at most REPLAY_WAIT_MAX_MS. Once it is over, the nodes whose report the
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
 * look waits for it: published after the subscriptions, it comes back after their retained messages
 * on a broker that keeps a client's order (twinfleet's broker: broker/retained-order.ts; Mosquitto),
 * and the look then waits for the quiet time after it. Its end so marked, a report a broker
 * that ran on did not replay is one cleared while the service was away, and the twin forgets it as
 * it forgets a clear it sees (twins/cleared.ts): it kept showing the cleared report until the node
 * reported again. Quiet alone (no marker, refused, or not back within REPLAY_WAIT_MAX_MS) still
 * ends a look, and puts back and forgets as before the marker (a report it takes for cleared is
 * left shown).
 */
import type { Logger } from "pino";
import { formatStamp, type Message, type NodeId, type Prefix, topicOf } from "../protocol/index.js";
import { configBehindLine } from "./broker-copy.js";
import type { BrokerRestart } from "./broker-restart.js";
import { after, type Scheduler, type Timer } from "./clock.js";
import type { RegistryEffect } from "./effects.js";
import type { TwinRegistry } from "./registry.js";

/** How long no retained message must have come before the replay counts as over. */
export const REPLAY_SETTLE_MS = 500;
/** The longest the look waits for the replay to end (a broker replaying without pause). */
export const REPLAY_WAIT_MAX_MS = 10_000;

/** How a wait for a replay's end goes; each has the default the service's looks use. */
export interface ReplayWait {
  /** When the subscription was made (the scheduler's now). */
  readonly began?: number;
  /** How long no retained message must have come (REPLAY_SETTLE_MS). */
  readonly quietMs?: number;
  /** The longest it waits after `began` before it calls the replay over all the same (REPLAY_WAIT_MAX_MS). */
  readonly maxMs?: number;
}

/**
 * Calls `done` once the broker's replay for a subscription is over: no retained message (`lastAt`)
 * for the quiet time since it began, or the longest wait passed. Returns its cancel.
 */
export function whenReplayOver(
  scheduler: Scheduler,
  lastAt: () => number,
  done: () => void,
  wait: ReplayWait = {},
): { cancel(): void } {
  const { began = scheduler.now(), quietMs = REPLAY_SETTLE_MS, maxMs = REPLAY_WAIT_MAX_MS } = wait;
  let timer: Timer | undefined;
  const look = () => {
    const now = scheduler.now();
    const quiet = now - Math.max(lastAt(), began);
    if (quiet < quietMs && now - began < maxMs) {
      timer = after(scheduler, quietMs - quiet, look);
      return;
    }
    timer = undefined;
    done();
  };
  timer = after(scheduler, quietMs, look);
  return { cancel: () => timer?.cancel() };
}

/** What a look needs of the replay marker (twins/replay-marker.ts): its round trip, undefined when refused. */
export interface ReplayMarking {
  roundTrip(): Promise<number | undefined>;
}

/**
 * Calls `done(true)` once the replay marker is back and no retained message (`lastAt`) came for
 * REPLAY_SETTLE_MS after it (a broker out of order, Redis, may send a few after the marker; the
 * marker waited behind the replay, so its round trip is no measure of the broker's pace here, as it
 * is for a command's look at a quiet broker); `done(false)` when the look had
 * only quiet to go by (whenReplayOver): no marker or refused (the quiet time, at most
 * REPLAY_WAIT_MAX_MS), or not back within REPLAY_WAIT_MAX_MS (then the quiet time from there, with
 * no longest: it used to end the look at 10 s whatever still came).
 */
export function whenReplayMarked(
  scheduler: Scheduler,
  marker: ReplayMarking | undefined,
  lastAt: () => number,
  done: (marked: boolean) => void,
): { cancel(): void } {
  if (marker === undefined) return whenReplayOver(scheduler, lastAt, () => done(false));
  const began = scheduler.now();
  let settled = false;
  let quiet: { cancel(): void } | undefined;
  const quietOnly = () => {
    quiet = whenReplayOver(scheduler, lastAt, () => done(false), { began });
  };
  const bound = after(scheduler, REPLAY_WAIT_MAX_MS, () => {
    if (settled) return;
    settled = true;
    // Still replaying or not, the look's longest is past: the quiet time alone, from now.
    quiet = whenReplayOver(scheduler, lastAt, () => done(false), { maxMs: Number.POSITIVE_INFINITY });
  });
  void marker.roundTrip().then((rtt) => {
    if (settled) return;
    settled = true;
    bound.cancel();
    if (rtt === undefined) quietOnly();
    else quiet = whenReplayOver(scheduler, lastAt, () => done(true), { maxMs: Number.POSITIVE_INFINITY });
  });
  return {
    cancel: () => {
      settled = true;
      bound.cancel();
      quiet?.cancel();
    },
  };
}

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
    readonly marker: ReplayMarking | undefined;
    /** Applies the effects of a report found cleared (none: not forgotten). */
    readonly apply: ((fx: readonly RegistryEffect[]) => void) | undefined;
    readonly prefix: Prefix;
  };
  /** During a look: the nodes whose replayed report was older than the twin's, put back one by one. */
  private readonly olderReplayed = new Set<NodeId>();
  /** When the last retained message came (the broker's replay for a subscription). */
  lastReplayedAt = Number.NEGATIVE_INFINITY;
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
    /** Told after a look how many nodes' reports the broker no longer held and were put back (none: not told). */
    events?: { emit(event: "put-back", nodes: number): unknown },
    /** The connection, which tells whether its broker ran on and marks its replay's end (none: neither). */
    link?: { readonly restart?: Pick<BrokerRestart, "ranOn">; readonly replayMarker?: ReplayMarking },
    apply?: (fx: readonly RegistryEffect[]) => void,
  ) {
    const { logger, passive, scheduler, prefix } = opts;
    const told = (nodes: number) => events?.emit("put-back", nodes);
    const ranOn = () => link?.restart?.ranOn();
    const marker = link?.replayMarker;
    this.deps = { registry, send, logger, passive, scheduler, told, ranOn, marker, apply, prefix };
  }

  /** A retained message came (the broker's replay for a subscription). */
  replayed(): void {
    this.lastReplayedAt = this.deps.scheduler.now();
  }

  /** After a subscription, once the broker's replay is over: every twin whose report it did not replay. */
  all(): void {
    if (this.deps.passive) return;
    this.stop();
    this.olderReplayed.clear();
    this.began = this.deps.scheduler.now();
    this.settle = whenReplayMarked(
      this.deps.scheduler,
      this.deps.marker,
      () => this.lastReplayedAt,
      (marked) => {
        this.settle = undefined;
        this.unreplayed(marked);
      },
    );
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
      { nodes: nodes.length, first: nodes.slice(0, 5) },
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
