/**
 * The fleet view: one record per node, built from what the broker delivers (register, report,
 * config, status) and from the desired state the service loads and changes. Pure: `receive` decodes
 * one message and returns what changed as effects; the service does the I/O. Bad input never throws
 * and never replaces a newer state: it comes back as a `bad-input` effect and is counted.
 */
import {
  aboveCeiling,
  assertNever,
  decodeAsNodeReads,
  isProtocolError,
  type Message,
  NodeId,
  type Prefix,
  type ReportMessage,
  topicOf,
} from "../protocol/index.js";
import { BadInputTally, nodeOfTopic } from "./bad-input.js";
import { ConfigReplayWait, newBrokerSession, putBackDue, reportOnBroker } from "./broker-copy.js";
import { brokerConfigLost, clearedEffects } from "./cleared.js";
import { type ConvergenceChanges, ConvergenceInputs } from "./convergence-inputs.js";
import type { RegistryEffect } from "./effects.js";
import { FollowGraph } from "./follow-graph.js";
import { Room } from "./forget.js";
import { cutOff, NodePresence } from "./node-presence.js";
import { believeReport, configOf, type ReadsDeps } from "./node-reads.js";
import { type HeldReport, OriginWait } from "./origin-wait.js";
import { RETAINED_REGISTER, registerEffects } from "./register-effects.js";
import { SetCounter } from "./set-counter.js";
import type { DesiredRecord, StoredState } from "./store.js";
import { type Slicing, slicingOf } from "./store-slices.js";
import { StoredSeen } from "./stored-seen.js";
import {
  newRecord,
  offlineUnheard,
  restoreRecord,
  storedRecord,
  type TwinRecord,
  viewOf,
  writeDesire,
} from "./twin-record.js";
import { bumpVersions } from "./twin-versions.js";
import { type BadInput, type BadInputReason, badInputOfDrop, type Presence, type Twin } from "./types.js";

export class TwinRegistry {
  private readonly twins = new Map<NodeId, TwinRecord>();
  private readonly graph = new FollowGraph(this.twins);
  private readonly bads = new BadInputTally((id) => this.twins.has(id));
  private readonly inputs = new ConvergenceInputs();
  private readonly setCounter = new SetCounter();
  private readonly room = new Room(this.twins, this.graph, this.inputs, (id) => this.bads.forget(id));
  private readonly originWait = new OriginWait();
  private readonly configWait = new ConfigReplayWait(); // registers before their config's replay
  private readonly presence = new NodePresence(); // status, restart: twins/node-presence.ts
  /** The last-seen time each twin's stored record carries, the one written longest ago first. */
  private readonly storedSeen = new StoredSeen();
  /** What a report or a config moves (twins/node-reads.ts). */
  private readonly reads: ReadsDeps = {
    twins: this.twins,
    graph: this.graph,
    inputs: this.inputs,
    setCounter: this.setCounter,
    bad: (...a) => this.bad(...a),
  };

  /** `maxNodes`: the most twins messages from the wire may make (a store restores any number). */
  constructor(
    private readonly prefix: Prefix,
    private readonly maxNodes = Number.POSITIVE_INFINITY,
  ) {}

  /** Restores desired state and identities from the store (its dates on `now()`'s clock: restoreRecord). */
  restore(state: StoredState, dateOffset = 0, now = Number.POSITIVE_INFINITY): void {
    for (const [id, rec] of Object.entries(state.nodes)) {
      const t = this.ensure(NodeId(id));
      restoreRecord(t, rec, dateOffset, now);
      this.storedSeen.wrote(t);
      this.graph.sourcesChanged();
      if (rec.pendingSet) this.setCounter.sent(rec.pendingSet.counter);
    }
  }

  /** The state to store, whole; taken to be stored (datesBehind). */
  snapshot(dateOffset = 0): StoredState {
    const nodes: Record<string, DesiredRecord> = {};
    for (const t of this.twins.values()) this.take(t, nodes, dateOffset);
    return { nodes };
  }

  /**
   * As `snapshot`, a slice of twins at a time, the event loop turning between two (store-slices.ts):
   * a twin changed meanwhile is in it as it was when walked or as it is now, and its change, told to
   * the saver, is written after it. A Map's iterator goes on over twins added or removed meanwhile.
   */
  async snapshotInSlices(dateOffset: number, slicing?: Slicing): Promise<StoredState> {
    const { records, turn } = slicingOf(slicing);
    const nodes: Record<string, DesiredRecord> = {};
    let walked = 0;
    for (const t of this.twins.values()) {
      this.take(t, nodes, dateOffset);
      if (++walked % records === 0) await turn();
    }
    return { nodes };
  }

  private take(t: TwinRecord, nodes: Record<string, DesiredRecord>, dateOffset: number): void {
    const rec = storedRecord(t, dateOffset);
    if (rec) {
      nodes[t.id] = rec;
      this.storedSeen.wrote(t);
    }
  }

  /** The stored form of one twin (undefined: nothing of it to keep, or no such twin); taken to be stored. */
  storedOf(id: string, dateOffset = 0): DesiredRecord | undefined {
    const t = this.twins.get(id as NodeId);
    const rec = t ? storedRecord(t, dateOffset) : undefined;
    if (t && rec) this.storedSeen.wrote(t);
    else this.storedSeen.dropped(id as NodeId);
    return rec;
  }

  /**
   * At most `limit` twins heard later than the stored state says, those stored longest ago first
   * (twins/stored-seen.ts): whose last-seen dates a minute's look stores.
   */
  datesBehind(limit: number): NodeId[] {
    return this.storedSeen.behind(this.twins, limit);
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

  /** Each twin's presence, last-seen time (on `now()`) and register, no view made: forget-after.ts, reconnect-query.ts. */
  seen(): Iterable<Pick<TwinRecord, "id" | "presence" | "lastSeen" | "registeredSinceOnline">> {
    return this.twins.values();
  }
  /** The twin's presence, no view made: what the convergence feed asks of every follower, every pass. */
  presenceOf(id: NodeId): Presence | undefined {
    return this.twins.get(id)?.presence;
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

  /**
   * A retired node's twin forgotten for good (twins/retire.ts): `forgotten`, then the sources it
   * followed, whose followers changed (their versions moved). Undefined for a node not known.
   */
  retire(id: NodeId): RegistryEffect[] | undefined {
    const left = this.room.remove(id);
    return left && this.shown([{ type: "forgotten", node: id, retired: true }, ...left]);
  }
  countBad(i: BadInput): RegistryEffect {
    return this.bad(i.reason, i.topic, i.detail, i.node);
  }

  /** The service subscribes afresh: what the broker holds is what it replays from now on. */
  brokerSession(ranOn?: () => boolean | undefined): void {
    if (ranOn !== undefined) this.configWait.ranOn = ranOn;
    newBrokerSession(this.twins.values());
    this.originWait.begin();
    this.rereading(true);
  }

  /** Told as the broker's replay begins (true) and once it is over: the convergence feed listens. */
  rereading: (under: boolean) => void = () => {};

  /**
   * The broker's replay is over: the reports held for the configs on their path are judged now, and
   * the nodes that registered during it whose config it did not send follow nobody.
   */
  replayOver(): RegistryEffect[] {
    const fx: RegistryEffect[] = this.originWait.end().flatMap((h) => {
      const t = this.twins.get(h.msg.node);
      return t ? this.judged(t, h) : [];
    });
    const shown = this.shown([...fx, ...this.configWait.replayOver(this.twins, this.graph)]);
    this.rereading(false);
    return shown;
  }

  /** Twins whose report the broker holds older, or (`unheard`) did not replay since the subscription. */
  putBacksDue(unheard = true): NodeId[] {
    return [...this.twins.values()].filter((t) => putBackDue(t, unheard)).map((t) => t.id);
  }

  /** The effects with their twins' versions bumped, a presence moved touched for convergence. */
  private shown<E extends RegistryEffect>(fx: E[]): E[] {
    return bumpVersions(this.twins, this.inputs.presenceMoved(this.twins, fx));
  }

  /**
   * Told of every report and config that stood when the service subscribed (`replayed` on an
   * `updated` effect), the same as the twin's or not: not a change, so no effect; the service's log
   * counts them (cli/replayed-log.ts).
   */
  stood: (node: NodeId, change: "report" | "config") => void = () => {};

  /** Decodes and applies one message from the broker (`retained`: replayed for a new subscription). */
  receive(topic: string, payload: Uint8Array | string, qos: 0 | 1, now: number, retained = false) {
    const fx = this.apply(topic, payload, qos, now, retained); // twins forgotten for room come first
    return this.shown(this.room.drain(fx));
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
            bad: (...a) => this.bad(...a),
            configLost: (t) => this.configWait.registered(t, this.twins, this.graph, this.originWait.open),
          })
        );
      case "report":
        return this.refused(msg.node, topic) ?? this.report(msg, topic, now, retained);
      case "config": {
        const refused = this.refused(msg.node, topic);
        if (refused) return refused;
        if (retained) this.stood(msg.node, "config");
        return configOf(this.ensure(msg.node), msg, topic, now, retained, this.reads);
      }
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
    return this.shown([
      { type: "updated", node: id, change: "desired" },
      { type: "desired-changed", node: id },
    ]);
  }

  /** This service's pairing, pending until confirmed; the node's config carrying it is at `from` or above. */
  setDesiredSources(id: NodeId, to: readonly NodeId[], version: number, from?: number): RegistryEffect[] {
    writeDesire(this.ensure(id), to, version, from ?? version, from === undefined);
    this.graph.sourcesChanged();
    return this.shown([
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
    if (replayed) this.stood(t.id, "report");
    // Its origin unexplained while configs may still come: held, judged once the replay is over.
    if (!this.originWait.open || this.graph.mayCarry(t, msg.stamp)) return this.judged(t, h);
    return this.originWait.hold(t.id, h);
  }

  private judged(t: TwinRecord, h: HeldReport): RegistryEffect[] {
    const out = believeReport(t, h, this.reads);
    return putBackDue(t) ? [...out, { type: "put-back", node: t.id }] : out;
  }

  /** Twins shown online that sent nothing since `since`, taken offline (twins/unanswered.ts). */
  unanswered(since: number): RegistryEffect[] {
    return this.shown(offlineUnheard(this.twins.values(), since));
  }

  /** The broker restarted; the service connected to it at `since`: who sent nothing since is unheard. */
  brokerRestarted(since: number): RegistryEffect[] {
    return this.shown(this.presence.restarted(this.twins.values(), since));
  }

  /** Nodes cut off with a lost cluster member (twins/member-loss.ts): those online are unheard. */
  memberLost(ids: readonly NodeId[]): RegistryEffect[] {
    return this.shown(cutOff(ids.map((id) => this.twins.get(id))));
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
