/**
 * The fleet view: one record per node, built from what the broker delivers (register, report,
 * config, status) and from the desired state the service loads and changes. Pure: `receive` decodes
 * one message and returns what changed as effects; the service does the I/O. Bad input never throws
 * and never replaces a newer state: it comes back as a `bad-input` effect and is counted.
 */
import {
  aboveCeiling,
  assertNever,
  type ConfigMessage,
  compareStamps,
  decodeAsNodeReads,
  formatStamp,
  isProtocolError,
  type Message,
  NodeId,
  type Prefix,
  type ReportMessage,
  topicOf,
} from "../protocol/index.js";
import { BadInputTally, nodeOfTopic } from "./bad-input.js";
import { newBrokerSession, putBackDue, reportOnBroker } from "./broker-copy.js";
import { brokerConfigLost, clearedEffects } from "./cleared.js";
import { type ConvergenceChanges, ConvergenceInputs } from "./convergence-inputs.js";
import { crossedWrite } from "./crossed-writes.js";
import { type RegistryEffect, updated } from "./effects.js";
import { FollowGraph } from "./follow-graph.js";
import { Room } from "./forget.js";
import { cutOff, NodePresence } from "./node-presence.js";
import { type HeldReport, OriginWait } from "./origin-wait.js";
import { configSeen, RETAINED_REGISTER, registerEffects } from "./register-effects.js";
import { SetCounter } from "./set-counter.js";
import type { DesiredRecord, StoredState } from "./store.js";
import {
  followed,
  newRecord,
  offlineUnheard,
  restoreRecord,
  sameConfig,
  storedRecord,
  type TwinRecord,
  viewOf,
  writeDesire,
  writtenWhileAway,
} from "./twin-record.js";
import { bumpFollowedSources, bumpVersions } from "./twin-versions.js";
import {
  type BadInput,
  type BadInputReason,
  badInputOfDrop,
  type ReportedConfig,
  type Twin,
} from "./types.js";

export class TwinRegistry {
  private readonly twins = new Map<NodeId, TwinRecord>();
  private readonly graph = new FollowGraph(this.twins);
  private readonly bads = new BadInputTally((id) => this.twins.has(id));
  private readonly inputs = new ConvergenceInputs();
  private readonly setCounter = new SetCounter();
  private readonly room = new Room(this.twins, this.graph, this.inputs, (id) => this.bads.forget(id));
  private readonly originWait = new OriginWait();
  private readonly presence = new NodePresence(); // status, restart: twins/node-presence.ts

  /** `maxNodes`: the most twins messages from the wire may make (a store restores any number). */
  constructor(
    private readonly prefix: Prefix,
    private readonly maxNodes = Number.POSITIVE_INFINITY,
  ) {}

  /** Restores desired state and identities from the store (its dates on `now()`'s clock: restoreRecord). */
  restore(state: StoredState, dateOffset = 0, now = Number.POSITIVE_INFINITY): void {
    for (const [id, rec] of Object.entries(state.nodes)) {
      restoreRecord(this.ensure(NodeId(id)), rec, dateOffset, now);
      this.graph.sourcesChanged();
      if (rec.pendingSet) this.setCounter.sent(rec.pendingSet.counter);
    }
  }

  snapshot(dateOffset = 0): StoredState {
    const nodes: Record<string, DesiredRecord> = {};
    for (const t of this.twins.values()) {
      const rec = storedRecord(t, dateOffset);
      if (rec) nodes[t.id] = rec;
    }
    return { nodes };
  }

  /** The highest Lamport counter believed in any report: what a set command carries (set-counter.ts). */
  get maxCounter(): number {
    return this.setCounter.value;
  }

  /** Twins known. */
  get size(): number {
    return this.twins.size;
  }

  ids(): NodeId[] {
    return [...this.twins.keys()].sort();
  }
  has(id: NodeId): boolean {
    return this.twins.has(id);
  }
  get(id: NodeId): Twin | undefined {
    const t = this.twins.get(id);
    return t ? viewOf(t, this.graph.followers(t.id)) : undefined;
  }
  list(): Twin[] {
    return this.ids().flatMap((id) => this.get(id) ?? []);
  }

  /** The nodes that follow `id` by their config or by the desire, sorted (FollowGraph.followersAny). */
  followersOf(id: NodeId): NodeId[] {
    return this.graph.followersAny(id);
  }

  badInput(): { readonly total: number; readonly byReason: Record<BadInputReason, number> } {
    return this.bads.totals();
  }
  badInputOf(id: NodeId): number {
    return this.bads.of(id);
  }

  /** What convergence needs of every twin, and which twins may have changed since the last call. */
  convergenceChanges(): ConvergenceChanges {
    return this.inputs.take();
  }

  /** The version a control server writes for an offline node: above every version seen for it. */
  nextWriteVersion(id: NodeId): number {
    const t = this.twins.get(id);
    if (!t) return 1;
    return Math.max(t.config?.version ?? 0, t.nodeConfig?.version ?? 0, t.desired.configVersion) + 1;
  }

  /** A retired node's twin forgotten for good (false: none); a malformed forget request counted (twins/retire.ts). */
  retire(id: NodeId): boolean {
    return this.room.remove(id);
  }
  countBad(i: BadInput): RegistryEffect {
    return this.bad(i.reason, i.topic, i.detail, i.node);
  }

  /** The service subscribes afresh: what the broker holds is what it replays from now on. */
  brokerSession(): void {
    newBrokerSession(this.twins.values());
    this.originWait.begin();
  }

  /** The broker's replay is over: the reports held for the configs on their path are judged now. */
  replayOver(): RegistryEffect[] {
    const fx = this.originWait.end().flatMap((h) => {
      const t = this.twins.get(h.msg.node);
      return t ? this.judged(t, h) : [];
    });
    return bumpVersions(this.twins, fx);
  }

  /** Twins whose report the broker did not replay since the subscription, or holds older. */
  putBacksDue(): NodeId[] {
    return [...this.twins.values()].filter((t) => putBackDue(t, true)).map((t) => t.id);
  }

  /** Decodes and applies one message from the broker (`retained`: replayed for a new subscription). */
  receive(topic: string, payload: Uint8Array | string, qos: 0 | 1, now: number, retained = false) {
    const fx = this.apply(topic, payload, qos, now, retained); // twins forgotten for room come first
    return bumpVersions(this.twins, this.room.drain(fx));
  }

  private apply(topic: string, payload: Uint8Array | string, qos: 0 | 1, now: number, retained: boolean) {
    if (payload.length === 0) {
      const cleared = clearedEffects(topic, this.prefix, this.twins, this.graph, this.inputs);
      if (cleared) return cleared;
    }
    let msg: Message;
    try {
      msg = decodeAsNodeReads(this.prefix, topic, payload, qos);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      const node = this.countable(nodeOfTopic(this.prefix, topic));
      const bad = this.bad(badInputOfDrop(e.reason), topic, e.message, node);
      // A malformed config may have replaced the node's retained one on the broker.
      const twin = node === undefined ? undefined : this.twins.get(node);
      const lost =
        twin !== undefined && topic === topicOf(this.prefix, "config", twin.id) ? brokerConfigLost(twin) : [];
      return [bad, ...lost];
    }
    // A counter or version above the ceiling is dropped first, as nodes drop it (protocol §4).
    const over = aboveCeiling(msg);
    if (over !== undefined) {
      const why = `${over}, which no fleet reaches: dropped, as nodes drop it (protocol.md §4)`;
      return [this.bad("implausible-counter", topic, why, this.countable(nodeOfTopic(this.prefix, topic)))];
    }
    switch (msg.kind) {
      case "register":
        // Never retained (protocol.md §3): one the broker replays is garbage, not the node answering.
        if (retained) return [this.bad("bad-payload", topic, RETAINED_REGISTER, this.countable(msg.node))];
        return (
          this.refused(msg.node, topic) ??
          registerEffects(this.ensure(msg.node), msg, topic, now, {
            twins: this.twins,
            graph: this.graph,
            bad: (...a) => this.bad(...a),
          })
        );
      case "report":
        return this.refused(msg.node, topic) ?? this.report(msg, topic, now, retained);
      case "config":
        return this.refused(msg.node, topic) ?? this.config(msg, topic, now, retained);
      case "status":
        return (
          this.refused(msg.node, topic) ?? this.presence.status(this.ensure(msg.node), msg, now, retained)
        );
      case "state":
      case "subscribe":
      case "unsubscribe":
      case "query":
        return [
          this.bad(
            "unexpected-kind",
            topic,
            `${msg.kind} is a command, not something a node reports`,
            msg.kind === "query" ? undefined : msg.node,
          ),
        ];
      default:
        return assertNever(msg);
    }
  }

  /** Records a set the service has just sent; a report stamped past `counter` has answered it already. */
  setSent(id: NodeId, on: boolean, counter: number): RegistryEffect[] {
    const t = this.ensure(id);
    const { pendingSet: _old, ...rest } = t.desired;
    const answered = (t.reported?.stamp.counter ?? -1) > counter;
    t.desired = answered ? rest : { ...rest, pendingSet: { on, counter } };
    t.desiredKnown = true;
    return bumpVersions(this.twins, [
      { type: "updated", node: id, change: "desired" },
      { type: "desired-changed", node: id },
    ]);
  }

  /** This service's pairing, pending until confirmed; the node's config carrying it is at `from` or above. */
  setDesiredSources(id: NodeId, to: readonly NodeId[], version: number, from?: number): RegistryEffect[] {
    writeDesire(this.ensure(id), to, version, from ?? version, from === undefined);
    this.graph.sourcesChanged();
    return bumpVersions(this.twins, [
      { type: "updated", node: id, change: "desired" },
      { type: "desired-changed", node: id },
    ]);
  }

  private report(msg: ReportMessage, topic: string, now: number, retained: boolean): RegistryEffect[] {
    const t = this.ensure(msg.node);
    // What stood when the service subscribed: the broker's copy, or the node's first report since
    // (its answer to the service's query can overtake the broker's replay of a large fleet).
    const replayed = retained || t.brokerReport === undefined;
    reportOnBroker(t, msg.stamp, retained);
    const h = { msg, topic, now, retained, replayed };
    // Its origin unexplained while configs may still come: held, judged once the replay is over.
    if (!this.originWait.open || this.graph.mayCarry(t, msg.stamp)) return this.judged(t, h);
    return this.originWait.hold(t.id, h);
  }

  private judged(t: TwinRecord, h: HeldReport): RegistryEffect[] {
    const out = this.believe(t, h);
    return putBackDue(t) ? [...out, { type: "put-back", node: t.id }] : out;
  }

  private believe(t: TwinRecord, { msg, topic, now, retained, replayed }: HeldReport): RegistryEffect[] {
    const { stamp } = msg;
    if (!this.graph.mayCarry(t, stamp)) {
      const bad = this.bad(
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
      this.inputs.touch(t);
      t.reported = { on: msg.on, stamp };
      return [bad, updated(t.id, "report", replayed)];
    }
    // Counted only once the report is believed, so a spoofed huge counter cannot inflate sets; one
    // that jumps millions is shown but not carried to the nodes a set goes to.
    const implausible = this.setCounter.see(stamp.counter, retained);
    if (!retained) t.lastSeen = now; // a replayed retained copy is the broker's, not the node heard
    const held = t.reported?.stamp;
    const order = held === undefined ? 1 : compareStamps(stamp, held);
    if (order === 0) return [];
    // Not bad input: a retained replay after the live newer one, or a node that booted to an older
    // state than it had (the broker lost its report): the twin's stays, and is put back (report()).
    if (held !== undefined && order < 0) return [];
    const out: RegistryEffect[] = [];
    if (implausible !== undefined) {
      out.push(this.bad("implausible-counter", topic, `${formatStamp(stamp)}: ${implausible}`, t.id));
    }
    this.inputs.touch(t);
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

  private config(msg: ConfigMessage, topic: string, now: number, retained: boolean): RegistryEffect[] {
    const t = this.ensure(msg.node);
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
      const why = `config version ${msg.version} is older than the twin's ${floor}`;
      return [this.bad("stale-config", topic, why, t.id)];
    }
    const seen: ReportedConfig = { version: msg.version, sources: [...msg.sources] };
    const before = followed(t);
    if (!retained) writtenWhileAway(t);
    const changed = !sameConfig(t.config, seen) || (fromNode && !sameConfig(t.nodeConfig, seen));
    this.inputs.touch(t);
    t.config = seen;
    if (fromNode) {
      t.nodeConfig = seen;
      t.sessionVersion = Math.max(t.sessionVersion ?? 0, seen.version);
    }
    for (const s of msg.sources) t.formerSources.add(s);
    this.graph.refollow(t, before);
    bumpFollowedSources(this.twins, before, followed(t));
    const out: RegistryEffect[] = changed ? [updated(t.id, "config", retained)] : [];
    out.push(...(crossed !== undefined ? [crossed] : configSeen(t, seen)));
    return out;
  }

  /** Twins shown online that sent nothing since `since`, taken offline (twins/unanswered.ts). */
  unanswered(since: number): RegistryEffect[] {
    return bumpVersions(this.twins, offlineUnheard(this.twins.values(), since));
  }

  /** The broker restarted; the service connected to it at `since`: who sent nothing since is unheard. */
  brokerRestarted(since: number): RegistryEffect[] {
    return bumpVersions(this.twins, this.presence.restarted(this.twins.values(), since));
  }

  /** Nodes cut off with a lost cluster member (twins/member-loss.ts): those online are unheard. */
  memberLost(ids: readonly NodeId[]): RegistryEffect[] {
    return bumpVersions(this.twins, cutOff(ids.map((id) => this.twins.get(id))));
  }

  /** The bad input of a message naming a node not known while `maxNodes` are; undefined otherwise. */
  private refused(id: NodeId, topic: string): RegistryEffect[] | undefined {
    if (this.admits(id) || this.room.make()) return undefined;
    const detail = `${this.maxNodes} nodes are tracked, the most this service keeps (--max-nodes): ${id} is not added`;
    return [this.bad("too-many-nodes", topic, detail)];
  }

  /** A node bad input may be counted against: one the registry admits. */
  private countable(id: NodeId | undefined): NodeId | undefined {
    return id !== undefined && this.admits(id) ? id : undefined;
  }

  /** A known node, or any while there is room for one more. */
  private admits(id: NodeId): boolean {
    return this.twins.has(id) || this.twins.size < this.maxNodes;
  }

  private bad(reason: BadInputReason, topic: string, detail: string, node?: NodeId): RegistryEffect {
    return { type: "bad-input", input: this.bads.record(reason, topic, detail, node) };
  }

  private ensure(id: NodeId): TwinRecord {
    let t = this.twins.get(id);
    if (!t) {
      t = newRecord(id);
      this.twins.set(id, t);
      this.inputs.added(t);
    }
    return t;
  }
}
