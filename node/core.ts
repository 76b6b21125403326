/**
 * NodeCore: the firmware's protocol logic as a pure state machine (docs/protocol.md §5). Inputs are
 * the events a board sees (boot, connect, message, button press, time); outputs are the MQTT
 * operations, LED writes and drops it performs, in order. No I/O, no clock of its own: the caller
 * passes `now`. The C++ core in firmware/ implements the same machine; the conformance vectors in
 * protocol/vectors/ hold both to it. What it is given and gives back (its inputs, outputs, state)
 * are in core-io.ts.
 */
import {
  aboveCeiling,
  assertNever,
  type ConfigMessage,
  type DropReason,
  decode,
  encode,
  formatStamp,
  isNewer,
  isProtocolError,
  MAX_FOLLOWS,
  type Message,
  type NodeId,
  nextCounter,
  type ReportMessage,
  type Stamp,
  sameStamp,
  topicOf,
  zeroStamp,
} from "../protocol/index.js";
import type { CoreInput, CoreOutput, NodeCoreConfig, NodeCoreState, SyncPhase } from "./core-io.js";

export type { CoreInput, CoreOutput, NodeCoreConfig, NodeCoreState, SyncPhase } from "./core-io.js";

export class NodeCore {
  private on = false;
  private stamp: Stamp;
  private clock = 0;
  private sources: NodeId[] = [];
  private configVersion = 0;
  private phase: SyncPhase = "offline";
  private connectedAt = 0;
  private gotConfig = false;
  private gotReport = false;
  /** The retained own report equals the node's stamp, so the sync need not publish it. */
  private reportRetained = false;
  /** This sync received an own retained config at least as new as the node's (§5.1 step 3). */
  private configRetained = false;
  private held = 0;
  private out: CoreOutput[] = [];

  constructor(readonly config: NodeCoreConfig) {
    this.stamp = zeroStamp(config.id);
  }

  /** When a sync that has not heard its retained state ends anyway (§5.1). Infinity unless syncing. */
  get syncDeadline(): number {
    return this.phase === "syncing" ? this.connectedAt + this.config.syncGraceMs : Number.POSITIVE_INFINITY;
  }

  /** The sync phase, stamp and switch state alone: what the board reads around every step, without
   *  the copy `state` makes. */
  get syncPhase(): SyncPhase {
    return this.phase;
  }

  get currentStamp(): Stamp {
    return this.stamp;
  }

  get isOn(): boolean {
    return this.on;
  }
  get pairingVersion(): number {
    return this.configVersion;
  }

  get state(): NodeCoreState {
    return {
      phase: this.phase,
      on: this.on,
      led: this.led(),
      stamp: this.stamp,
      clock: this.clock,
      sources: [...this.sources],
      configVersion: this.configVersion,
      heldPresses: this.held,
    };
  }

  /** Feeds one input at time `now` (ms) and returns what the node does, in order. */
  handle(input: CoreInput, now: number): CoreOutput[] {
    this.out = [];
    if (input.type !== "boot" && input.type !== "connected" && input.type !== "disconnected") {
      if (this.phase === "syncing" && now >= this.syncDeadline) this.completeSync();
    }
    switch (input.type) {
      case "boot":
        this.boot();
        break;
      case "connected":
        this.connected(now);
        break;
      case "disconnected":
        this.phase = "offline";
        break;
      case "press":
        this.press();
        break;
      case "tick":
        break;
      case "message":
        this.message(input.topic, input.payload, input.qos ?? 0);
        break;
      default:
        assertNever(input);
    }
    return this.out;
  }

  private boot(): void {
    this.on = false;
    this.stamp = zeroStamp(this.config.id);
    this.clock = 0;
    this.sources = [];
    this.configVersion = 0;
    this.phase = "offline";
    this.held = 0;
    this.reportRetained = false;
    this.emit({ type: "led", on: false });
  }

  private connected(now: number): void {
    this.phase = "syncing";
    this.connectedAt = now;
    this.gotConfig = false;
    this.gotReport = false;
    this.reportRetained = false;
    this.configRetained = false;
    this.subscribe(topicOf(this.config.prefix, "config", this.config.id), 1);
    this.subscribe(topicOf(this.config.prefix, "report", this.config.id), 1);
  }

  private completeSync(): void {
    const { prefix, id } = this.config;
    this.phase = "synced";
    this.subscribe(topicOf(prefix, "state", id), 1);
    this.subscribe(topicOf(prefix, "subscribe", id), 1);
    this.subscribe(topicOf(prefix, "unsubscribe", id), 1);
    this.subscribe(topicOf(prefix, "query"), 0);
    for (const s of this.sources) this.subscribe(topicOf(prefix, "report", s), 0);
    this.publish({ kind: "status", node: id, online: true });
    // The broker lost the node's config (restarted empty, or it was cleared) or holds an older one:
    // put it back, after the status so a control server can tell it is the node's own.
    if (!this.configRetained && this.configVersion > 0) this.publishConfig();
    this.publishRegister();
    if (this.held > 0) {
      const toggle = this.held % 2 === 1;
      this.held = 0;
      this.localEvent(toggle ? !this.on : this.on, this.clock);
    } else if (!this.reportRetained) {
      this.publishReport();
    }
  }

  private press(): void {
    if (this.phase === "synced") {
      this.localEvent(!this.on, this.clock);
      return;
    }
    this.held++;
    this.emit({ type: "led", on: this.led() });
  }

  /** A press or a set command: a new event stamped by this node (§4). */
  private localEvent(on: boolean, seen: number): void {
    this.clock = nextCounter(Math.max(this.clock, seen));
    this.stamp = { counter: this.clock, origin: this.config.id };
    this.on = on;
    this.emit({ type: "led", on: this.led() });
    this.publishReport();
  }

  /** A counter above the ceiling (§4): dropped; when on the node's own retained topic, put right. */
  private implausible(msg: Message, topic: string): boolean {
    const why = aboveCeiling(msg);
    if (why === undefined) return false;
    this.drop("implausible-counter", topic, why);
    if (this.phase !== "synced" || !("node" in msg) || msg.node !== this.config.id) return true;
    if (msg.kind === "report") this.publishReport();
    else if (msg.kind === "config" && this.configVersion > 0) this.publishConfig();
    return true;
  }

  private message(topic: string, payload: string, qos: 0 | 1): void {
    let msg: Message;
    try {
      msg = decode(this.config.prefix, topic, payload, qos);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.drop(e.reason, topic, e.message);
      return;
    }
    if (this.implausible(msg, topic)) return;
    if (msg.kind === "report") this.clock = Math.max(this.clock, msg.stamp.counter);
    const self = this.config.id;
    switch (msg.kind) {
      case "report":
        if (msg.node === self) this.ownReport(msg);
        else if (this.sources.includes(msg.node)) this.sourceReport(msg, topic);
        else this.drop("not-following", topic, `report from ${msg.node}, which this node does not follow`);
        break;
      case "config":
        if (msg.node === self) this.ownConfig(msg);
        else this.drop("bad-topic", topic, `config of another node (${msg.node})`);
        break;
      case "state":
        if (msg.node !== self) this.drop("bad-topic", topic, `state command for another node (${msg.node})`);
        else this.localEvent(msg.on, msg.counter);
        break;
      case "subscribe":
        if (msg.node !== self)
          this.drop("bad-topic", topic, `subscribe command for another node (${msg.node})`);
        else this.follow(msg.source, topic);
        break;
      case "unsubscribe":
        if (msg.node !== self)
          this.drop("bad-topic", topic, `unsubscribe command for another node (${msg.node})`);
        else this.unfollow(msg.source);
        break;
      case "query":
        this.publishRegister();
        this.publishReport();
        break;
      case "status":
      case "register":
        this.drop("bad-topic", topic, `${msg.kind} messages are for control servers, not nodes`);
        break;
      default:
        assertNever(msg);
    }
    if (this.phase === "syncing" && this.gotConfig && this.gotReport) this.completeSync();
  }

  private ownReport(msg: ReportMessage): void {
    if (this.phase === "syncing") this.gotReport = true;
    if (isNewer(msg.stamp, this.stamp)) {
      this.on = msg.on;
      this.stamp = msg.stamp;
      this.reportRetained = true;
      this.emit({ type: "led", on: this.led() });
    } else if (sameStamp(msg.stamp, this.stamp)) {
      this.reportRetained = true;
    } else if (this.phase === "syncing") {
      // Out of date (a publish was lost with the last connection): the sync publishes ours. Once
      // synced, an older own report is a late echo of an earlier publish; answering it would turn
      // every late echo into another report.
      this.reportRetained = false;
    }
  }

  private sourceReport(msg: ReportMessage, topic: string): void {
    if (!isNewer(msg.stamp, this.stamp)) {
      this.drop("stale", topic, `stamp ${formatStamp(msg.stamp)} is not newer than the node's`);
      return;
    }
    this.on = msg.on;
    this.stamp = msg.stamp;
    this.emit({ type: "led", on: this.led() });
    this.publishReport();
  }

  private ownConfig(msg: ConfigMessage): void {
    if (this.phase === "syncing") {
      this.gotConfig = true;
      this.configRetained = msg.version >= this.configVersion;
    }
    if (msg.version > this.configVersion) {
      const old = this.sources;
      this.sources = [...msg.sources];
      this.configVersion = msg.version;
      if (this.phase !== "synced") return;
      for (const s of old) if (!this.sources.includes(s)) this.unsubscribe(s);
      for (const s of this.sources)
        if (!old.includes(s)) this.subscribe(topicOf(this.config.prefix, "report", s), 0);
    }
    // Older while syncing: out of date, and the sync publishes the node's (configRetained is false).
    // Older while synced: a late echo of an earlier publish. Equal: nothing to do.
  }

  private follow(source: NodeId, topic: string): void {
    if (source === this.config.id) {
      this.drop("self-follow", topic, "a node cannot follow itself");
      return;
    }
    if (this.sources.includes(source)) {
      this.publishConfig(); // nothing to change: the config answers, so a control server can confirm
      return;
    }
    if (this.sources.length >= MAX_FOLLOWS) {
      this.drop("follows-full", topic, `already following ${MAX_FOLLOWS} nodes`);
      return;
    }
    this.sources.push(source);
    this.configVersion = nextCounter(this.configVersion);
    this.subscribe(topicOf(this.config.prefix, "report", source), 0);
    this.publishConfig();
  }

  private unfollow(source: NodeId): void {
    if (!this.sources.includes(source)) {
      this.publishConfig(); // nothing to change: the config answers, so a control server can confirm
      return;
    }
    this.sources = this.sources.filter((s) => s !== source);
    this.configVersion = nextCounter(this.configVersion);
    this.unsubscribe(source);
    this.publishConfig();
  }

  private led(): boolean {
    return this.held % 2 === 1 ? !this.on : this.on;
  }

  private publishReport(): void {
    this.reportRetained = true;
    this.publish({ kind: "report", node: this.config.id, on: this.on, stamp: this.stamp });
  }

  private publishConfig(): void {
    this.publish({
      kind: "config",
      node: this.config.id,
      version: this.configVersion,
      sources: this.sources,
    });
  }

  private publishRegister(): void {
    const { id, kind, profile, firmware } = this.config;
    this.publish({ kind: "register", node: id, nodeKind: kind, profile, firmware });
  }

  private publish(msg: Message): void {
    const e = encode(this.config.prefix, msg);
    this.emit({ type: "publish", topic: e.topic, payload: e.payload, retain: e.retain });
  }

  private subscribe(topic: string, qos: 0 | 1): void {
    this.emit({ type: "subscribe", topic, qos });
  }

  private unsubscribe(source: NodeId): void {
    this.emit({ type: "unsubscribe", topic: topicOf(this.config.prefix, "report", source) });
  }

  private drop(reason: DropReason, topic: string, detail: string): void {
    this.emit({ type: "drop", reason, topic, detail });
  }

  private emit(o: CoreOutput): void {
    this.out.push(o);
  }
}
