/**
 * What the registry makes of a node's report and of a config seen for it: a report believed (or
 * counted as spoofed, or kept off as older than the twin's), a pending set answered; a config taken
 * as the node's own or as written by another client while it was away, the follow graph moved with
 * it. It changes the twin and the registry's parts handed in and returns the effects; it does no
 * I/O (the registry hands the effects on: twins/registry.ts).
 */
import { type ConfigMessage, compareStamps, formatStamp, type NodeId } from "../protocol/index.js";
import { configBehind, staleOnBroker, staleOnBrokerWhy } from "./broker-copy.js";
import type { ConvergenceInputs } from "./convergence-inputs.js";
import { crossedWrite } from "./crossed-writes.js";
import { type RegistryEffect, updated } from "./effects.js";
import type { FollowGraph } from "./follow-graph.js";
import type { HeldReport } from "./origin-wait.js";
import { configSeen } from "./register-effects.js";
import type { SetCounter } from "./set-counter.js";
import { followed, sameConfig, type TwinRecord, writtenWhileAway } from "./twin-record.js";
import { followedSourcesMoved } from "./twin-versions.js";
import type { BadInputReason, ReportedConfig } from "./types.js";

/** The registry's parts a report or a config moves. */
export interface ReadsDeps {
  readonly twins: ReadonlyMap<NodeId, TwinRecord>;
  readonly graph: FollowGraph;
  readonly inputs: ConvergenceInputs;
  readonly setCounter: SetCounter;
  readonly bad: (reason: BadInputReason, topic: string, detail: string, node?: NodeId) => RegistryEffect;
}

/** A report of `t`, its origin judged now (held until the broker's replay was over, if it had to be). */
export function believeReport(
  t: TwinRecord,
  { msg, topic, now, retained, replayed }: HeldReport,
  d: ReadsDeps,
): RegistryEffect[] {
  const { stamp } = msg;
  if (!d.graph.mayCarry(t, stamp)) {
    const bad = d.bad(
      "spoofed-origin",
      topic,
      retained
        ? `stamp ${formatStamp(stamp)}: ${stamp.origin} is neither ${t.id} nor upstream of it under the configs the broker holds now; a retained report, written maybe before those changed or were cleared (an earlier run's leftover, whose sources a --fresh run cleared), or spoofed`
        : `stamp ${formatStamp(stamp)}: ${stamp.origin} is neither ${t.id} nor upstream of it`,
      t.id,
    );
    if (t.reported) return [bad];
    // Nothing to protect: show what the broker holds (after a restart this is usually a stamp
    // from a source the node has since left), flagged.
    d.inputs.touch(t);
    t.reported = { on: msg.on, stamp };
    return [bad, updated(t.id, "report", replayed)];
  }
  // Counted only once the report is believed, so a spoofed huge counter cannot inflate sets; one
  // that jumps millions is shown but not carried to the nodes a set goes to.
  const implausible = d.setCounter.see(stamp.counter, retained);
  // Heard only from a node online: a replayed retained copy is the broker's, and a report written on
  // the topic of a node away is a control client's (this service's put-back coming back to it, a
  // tool), not the node. Each made a node dead for hours look heard a moment ago, and kept one the
  // broker's restart left unheard from being so (twins/node-presence.ts).
  if (!retained && t.presence === "online") t.lastSeen = now;
  const held = t.reported?.stamp;
  const order = held === undefined ? 1 : compareStamps(stamp, held);
  if (order === 0) return [];
  // Not bad input: a retained replay after the live newer one, or a node that booted to an older
  // state than it had (the broker lost its report): the twin's stays, and is put back
  // (TwinRegistry.judged, twins/registry.ts).
  if (held !== undefined && order < 0) return [];
  const out: RegistryEffect[] = [];
  if (implausible !== undefined) {
    out.push(d.bad("implausible-counter", topic, `${formatStamp(stamp)}: ${implausible}`, t.id));
  }
  d.inputs.touch(t);
  t.reported = { on: msg.on, stamp };
  const pending = t.desired.pendingSet;
  if (pending && stamp.counter > pending.counter) {
    // The node took a stamp after the set was sent: the set (or a newer event) reached it.
    const { pendingSet: _done, ...rest } = t.desired;
    t.desired = rest;
    out.push({ type: "desired-changed", node: t.id });
  }
  out.push(updated(t.id, "report", replayed));
  return out;
}

/** A config seen for `t` on its topic (`retained`: replayed for the service's subscription). */
export function configOf(
  t: TwinRecord,
  msg: ConfigMessage,
  topic: string,
  now: number,
  retained: boolean,
  d: ReadsDeps,
): RegistryEffect[] {
  t.brokerConfig = true;
  // Online, the config is the node's own (protocol §6): it is what the broker holds now, whatever
  // its version. Otherwise (written by any client: not the node heard) an older one is stale.
  const fromNode = t.presence === "online";
  const crossed = fromNode ? undefined : crossedWrite(t, msg.version, msg.sources);
  if (crossed === "taken") return [];
  // The first config the twin has (a restarted service): the broker's copy, shown as any, so that
  // the config written again above it is not shown as followed (writtenWhileAway).
  if (crossed !== undefined && t.config !== undefined) return [crossed];
  if (fromNode && !retained) t.lastSeen = now;
  // A node's version never goes down while it is connected; across a reboot it may.
  const floor = fromNode ? t.sessionVersion : t.config?.version;
  if (floor !== undefined && msg.version < floor) {
    const behind = configBehind(t, msg.version, floor, retained);
    if (behind !== undefined) return behind;
    const why = `config version ${msg.version} is older than the twin's ${floor}`;
    if (fromNode || retained) return [d.bad("stale-config", topic, why, t.id)];
    // Written live while the node is away: configs are retained, so it is the broker's copy now, and
    // a node that boots takes its pairing from it. Still a stale write, but a confirmed pairing is
    // pending again and sent once the node is online, as for an older copy replayed.
    t.brokerConfigLive = true;
    const lost = staleOnBroker(t);
    const told = lost.length === 0 ? why : `${why}; ${staleOnBrokerWhy}`;
    return [d.bad("stale-config", topic, told, t.id), ...lost];
  }
  if (!retained) t.brokerConfigLive = true;
  const seen: ReportedConfig = { version: msg.version, sources: [...msg.sources] };
  const before = followed(t);
  if (!retained) writtenWhileAway(t);
  const changed = !sameConfig(t.config, seen) || (fromNode && !sameConfig(t.nodeConfig, seen));
  d.inputs.touch(t);
  t.config = seen;
  if (fromNode) {
    t.nodeConfig = seen;
    t.sessionVersion = Math.max(t.sessionVersion ?? 0, seen.version);
  }
  for (const s of msg.sources) t.formerSources.add(s);
  d.graph.refollow(t, before);
  const out: RegistryEffect[] = changed ? [updated(t.id, "config", retained)] : [];
  out.push(...(crossed !== undefined ? [crossed] : configSeen(t, seen)));
  out.push(...followedSourcesMoved(d.twins, before, followed(t)));
  return out;
}
