/**
 * What the broker holds for each node, as the service saw it go by since it last subscribed: the
 * broker replays its retained reports and configs for a new subscription, and every later write on
 * those topics reaches the service too, in the broker's order. Two losses follow from it (protocol
 * §6, "The broker's copy"):
 *
 * - the broker's report of a node is older than the twin's (an in-memory broker restarted empty, a
 *   durable one that died before storing the last report, a rebooted node that published its
 *   power-on state over the broker's copy): the service puts the twin's report back, retained, so
 *   the node adopts it (protocol §5.3) at once or at its next boot, and so do its followers;
 * - a node registers while the broker holds no config for it and it published none: it booted at
 *   config version 0 (a node above 0 puts its config back before its register, §5.1) and follows
 *   nobody. A pairing shown confirmed is pending again and sent. A register heard while the replay
 *   is under way is judged once it is over (ConfigReplayWait): the broker may not have sent the
 *   node's config yet. One from a broker that ran on is not judged: the config is late, not lost.
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";
import { brokerConfigLost, type ClearedEffect } from "./cleared.js";
import type { FollowGraph } from "./follow-graph.js";
import { followed, type TwinRecord } from "./twin-record.js";
import { followedSourcesMoved } from "./twin-versions.js";

/** The service subscribes afresh: what the broker holds is what it replays from now on. */
export function newBrokerSession(twins: Iterable<TwinRecord>): void {
  for (const t of twins) {
    t.brokerReport = undefined;
    t.brokerReportLive = false;
    t.brokerConfig = false;
    t.brokerConfigLive = false;
  }
}

/**
 * A config of the node older than the twin's knows (`floor`) came on its topic. Replayed for the
 * subscription, with nothing written since, it is the broker's copy: the broker lost the newer one
 * (a data directory restored from a backup, a durable broker that died before storing it). A node
 * that boots reads its pairing from that copy, so it is as good as gone (twins/cleared.ts): a
 * confirmed pairing is pending again, and the node, once online, is asked for its config and sent
 * what it lacks. It was taken for bad input (`stale-config`) and the pairing left confirmed: nodes
 * that lost power while the broker was put back on an older backup booted into the old pairing,
 * shown in sync with the new one for good. Undefined for any other older config (bad input).
 */
export function configBehind(
  t: TwinRecord,
  version: number,
  floor: number,
  retained: boolean,
): (ClearedEffect | { type: "config-behind"; node: NodeId; version: number; twin: number })[] | undefined {
  if (!retained || t.brokerConfigLive) return undefined;
  return [{ type: "config-behind", node: t.id, version, twin: floor }, ...staleOnBroker(t)];
}

/**
 * The broker's copy of the node's config is older than the twin's, and a node that boots takes its
 * pairing from it: a confirmed pairing is pending again and sent once the node is online. So for a
 * copy replayed (configBehind) and for an older config written live while the node is away (another
 * tool's write, a leftover replayed by hand), which stays a stale write (bad input). The live write
 * used to be dropped alone, the pairing left confirmed: a fleet started on it followed the older
 * pairing while the service showed the newer one confirmed.
 */
export function staleOnBroker(t: TwinRecord): ClearedEffect[] {
  t.brokerConfig = false;
  return brokerConfigLost(t);
}

/** What the bad-input line adds when staleOnBroker made a pairing pending. */
export const staleOnBrokerWhy =
  "it replaced the broker's copy (a node that boots takes its pairing from it), so the pairing is pending until the node shows it, and sent to it once online";

/** The line told for a config the broker holds older than the twin's. */
export function configBehindLine(e: { node: NodeId; version: number; twin: number }): string {
  return (
    `twins: the broker holds an older config of ${e.node} than its twin (version ${e.version}, the twin's ${e.twin}: ` +
    "it lost the newer one; a data directory restored from a backup?): a node that boots takes its pairing from it, " +
    "so the pairing is pending until the node shows it, and sent to it once online"
  );
}

/**
 * A report on the node's topic (`undefined`: cleared). A replayed one is the broker's copy only
 * while nothing was written since the subscription (a write that overtook the replay is newer).
 */
export function reportOnBroker(t: TwinRecord, stamp: Stamp | undefined, retained: boolean): void {
  if (retained && t.brokerReportLive) return;
  t.brokerReport = stamp;
  t.brokerReportLive = !retained;
}

/** Does the broker hold an older report of the node than the twin (or, `unheard`, none seen)? */
export function putBackDue(t: TwinRecord, unheard = false): boolean {
  const twin = t.reported?.stamp;
  if (twin === undefined) return false;
  if (t.brokerReport === undefined) return unheard;
  return compareStamps(t.brokerReport, twin) < 0;
}

/**
 * The node registered: with no config on the broker it follows nobody, whatever the twin last saw;
 * a confirmed pairing is pending again (and sent by the reconcile that follows).
 */
export function configLostAtRegister(
  t: TwinRecord,
  twins: ReadonlyMap<NodeId, TwinRecord>,
  graph: FollowGraph,
): ClearedEffect[] {
  const out: ClearedEffect[] = [];
  if (t.brokerConfig || !t.desiredKnown || !t.confirmed || t.desired.sources.length === 0) return out;
  const before = followed(t);
  t.config = undefined;
  t.nodeConfig = undefined;
  t.sessionVersion = undefined; // its versions start again from 0
  graph.refollow(t, before);
  out.push(
    { type: "updated", node: t.id, change: "config" },
    ...brokerConfigLost(t),
    ...followedSourcesMoved(twins, before, followed(t)),
  );
  return out;
}

/**
 * The registers heard while the broker's replay for a subscription is under way, of nodes whose config
 * it has not replayed yet: judged by configLostAtRegister once the replay is over. A broker sends a
 * subscription's retained messages one by one after its SUBACK, and the nodes answer the query sent
 * with it at once: on a fleet of 600, the registers of 400 nodes came before the broker had replayed
 * their configs, each was taken for a node that booted following nobody, and for a second or two
 * after every reconnect the twins showed them following nobody (the fleet's known followers 600 down
 * to 247 in the convergence history, its lowest minute the service's own re-read) and re-sent each
 * one's pairing. Judged at the replay's end, a config replayed meanwhile counts.
 */
export class ConfigReplayWait {
  private readonly held = new Set<NodeId>();
  /**
   * Whether the broker ran on since the service last read it (twins/broker-restart.ts; undefined: not
   * told): it then still holds every config it held, and one it has not replayed yet is late, not lost.
   */
  ranOn: () => boolean | undefined = () => undefined;

  /** The node `t` registered; `replaying`: the broker's replay is under way. */
  registered(
    t: TwinRecord,
    twins: ReadonlyMap<NodeId, TwinRecord>,
    graph: FollowGraph,
    replaying: boolean,
  ): ClearedEffect[] {
    if (t.brokerConfig) return configLostAtRegister(t, twins, graph);
    if (this.ranOn() === true) return [];
    if (!replaying) return configLostAtRegister(t, twins, graph);
    this.held.add(t.id);
    return [];
  }

  /**
   * The replay is over: the nodes that registered during it and whose config it did not send. From a
   * broker that ran on, none: their configs are late, not lost (a replay paused past the quiet time).
   */
  replayOver(twins: ReadonlyMap<NodeId, TwinRecord>, graph: FollowGraph): ClearedEffect[] {
    const out: ClearedEffect[] = [];
    if (this.ranOn() === true) this.held.clear();
    for (const id of this.held) {
      const t = twins.get(id);
      if (t !== undefined) out.push(...configLostAtRegister(t, twins, graph));
    }
    this.held.clear();
    return out;
  }
}
