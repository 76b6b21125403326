/**
 * The board: an Arduino running the twinfleet sketch with PubSubClient on a W5100, as an
 * event-driven model. It owns the sketch's foreground/background structure — `loop()` handles at most
 * one packet per iteration, the button interrupt updates state and LED at once and publishes, a
 * semaphore gives the Ethernet controller to one of them at a time — PubSubClient's behaviour
 * (blocking connect, keepalive, 256-byte packet limit, PUBACK for QoS 1) and the W5100's RX buffer.
 * Every operation costs cycles from the device profile; NodeCore decides what the node does.
 */
import { generate, type IConnectPacket, type Packet, parser } from "mqtt-packet";
import { encode, type Stamp } from "../protocol/index.js";
import { type CoreInput, type CoreOutput, NodeCore, type NodeCoreConfig } from "./core.js";
import { coreCost } from "./core-cost.js";
import { Cpu } from "./cpu.js";
import type { Link, LinkPath } from "./link.js";
import type { DisconnectReason, MqttStats, NodeEventSink, NodeStats } from "./metrics.js";
import type { DeviceProfile } from "./profile.js";
import { checkRam, type RamBudget } from "./ram.js";
import type { Scheduler, Timer } from "./scheduler.js";
import { type Wire, type WireFactory, wireAt } from "./wire.js";

export interface BoardOptions {
  readonly core: NodeCoreConfig;
  readonly profile: DeviceProfile;
  readonly sched: Scheduler;
  readonly link: Link;
  readonly wire: WireFactory;
  readonly sink?: NodeEventSink;
  readonly username?: string;
  readonly password?: string;
  /** PubSubClient buffer size (MQTT_MAX_PACKET_SIZE); the profile's unless set. */
  readonly maxPacketBytes?: number;
}

interface Socket {
  readonly wire: Wire;
  readonly up: LinkPath;
  readonly down: LinkPath;
  /** When the W5100 socket closed (timed out, or the broker closed it). */
  closedAt: number | undefined;
  closeReason: DisconnectReason;
}

type MqttPhase = "disconnected" | "connecting" | "connected";
type Via = "report" | "state" | "own-report";

const NOOP_SINK: NodeEventSink = () => {};

export class Board {
  readonly core: NodeCore;
  readonly ram: RamBudget;
  readonly mqttStats: MqttStats = {
    connects: 0,
    connectFailures: 0,
    reconnects: 0,
    keepaliveTimeouts: 0,
    pings: 0,
    packetsIn: 0,
    packetsOut: 0,
    oversizedDropped: 0,
    oversizedPublishes: 0,
  };
  private readonly cpu: Cpu;
  private readonly p: DeviceProfile;
  private readonly sched: Scheduler;
  private readonly sink: NodeEventSink;
  private readonly maxPacket: number;
  private readonly keepaliveMs: number;
  private readonly node: string;
  private readonly parse = parser({ protocolVersion: 4 });
  private parsed: Packet | undefined;

  /** Model time inside the running job. */
  private t = 0;
  private mqtt: MqttPhase = "disconnected";
  private sock: Socket | undefined;
  private rx: { bytes: Buffer; at: number }[] = [];
  private rxBytes = 0;
  private rxPeak = 0;
  /** Interrupt-path publishes waiting for the Ethernet controller (the semaphore). */
  private isrQueue: CoreOutput[] = [];
  private lastIn = 0;
  private lastOut = 0;
  private pingOutstanding = false;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private everConnected = false;
  private connectingSince = 0;
  private connackTimer: Timer | undefined;
  private wake: Timer | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private nextMsgId = 1;
  private held = 0;
  private syncDeadline = Number.POSITIVE_INFINITY;
  /** Sockets given up without a FIN; closed for real only when the node stops. */
  private abandoned = new Set<Wire>();
  /** Own reports sent and not yet echoed, by payload (it carries the stamp): for the `echo` event. */
  private reportsSent = new Map<string, { at: number; stamp: Stamp }>();

  constructor(private readonly opts: BoardOptions) {
    this.p = opts.profile;
    this.sched = opts.sched;
    this.sink = opts.sink ?? NOOP_SINK;
    this.node = opts.core.id;
    this.maxPacket = opts.maxPacketBytes ?? this.p.mqtt.maxPacketBytes;
    this.ram = checkRam(this.p, { maxPacketBytes: this.maxPacket });
    this.keepaliveMs = this.p.mqtt.keepaliveS * 1000;
    this.core = new NodeCore(opts.core);
    const c = this.p.cycles;
    this.cpu = new Cpu(this.p.mcu.clockHz, this.p.loop.idlePeriodUs / 1000, c.idlePoll + c.loopOverhead);
    this.parse.on("packet", (pk: Packet) => {
      this.parsed = pk;
    });
    this.parse.on("error", () => {
      this.parsed = undefined;
    });
  }

  get powered(): boolean {
    return this.cpu.powered;
  }

  get connected(): boolean {
    return this.mqtt === "connected";
  }

  // ---- power ----

  /** Power on at `at`: setup() runs Ethernet.begin (the shield's reset wait), then the loop connects. */
  powerOn(at: number): void {
    if (this.cpu.powered) return;
    this.cpu.powerOn(at);
    this.held = 0;
    this.syncDeadline = Number.POSITIVE_INFINITY;
    this.lastAttempt = Number.NEGATIVE_INFINITY;
    this.sink({ type: "boot", node: this.node, at });
    this.cpu.begin(at);
    this.t = at;
    this.applyOutputs(this.feed({ type: "boot" }, at, true).outs);
    this.blockUntil(at + this.p.w5100.resetWaitMs);
    this.endJob();
  }

  /** Power cut at `at`: everything in RAM is lost; the broker is not told (no FIN). */
  powerOff(at: number): void {
    if (!this.cpu.powered) return;
    const was = this.mqtt;
    this.cutSocket(at);
    this.connackTimer?.cancel();
    this.wake?.cancel();
    this.wake = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
    this.isrQueue = [];
    if (was === "connected") this.sink({ type: "disconnected", node: this.node, at, reason: "power-off" });
    this.mqtt = "disconnected";
    this.cpu.powerOff(at);
  }

  /** Node stopped for good: close the socket for real. */
  shutdown(): void {
    this.sock?.wire.destroy();
    this.powerOff(this.sched.now());
    for (const w of this.abandoned) w.destroy();
    this.abandoned.clear();
  }

  // ---- the button interrupt ----

  /** The button interrupt at `at`: state and LED at once, then the publish once the chip is free. */
  press(at: number): void {
    if (!this.cpu.powered) return;
    const c = this.p.cycles;
    const wasSynced = this.core.state.phase === "synced";
    const { outs, cycles } = this.feed({ type: "press" }, at, false);
    const publishes = outs.filter((o) => o.type !== "led");
    const isrCycles =
      c.isrEntry + c.isrDispatch + c.digitalRead + cycles + (outs.length - publishes.length) * c.digitalWrite;
    let stamp: Stamp | undefined;
    if (publishes.length > 0) stamp = this.core.state.stamp;
    else this.held++;
    if (!wasSynced && stamp !== undefined) this.syncedBy(at, stamp);
    const ledAt = at + this.cpu.ms(isrCycles);
    this.sink(
      stamp
        ? { type: "press", node: this.node, at, ledAt, stamp }
        : { type: "press", node: this.node, at, ledAt },
    );
    if (this.cpu.freeAt > at) {
      // The loop holds the chip: the ISR steals its cycles, the publish waits for the semaphore.
      this.cpu.work += isrCycles + c.isrReturn;
      if (this.cpu.freeAt !== Number.POSITIVE_INFINITY) {
        this.cpu.freeAt += this.cpu.ms(isrCycles + c.isrReturn);
        this.cpu.idleSince = this.cpu.freeAt;
      } else {
        this.cpu.isrWhileBlocked += isrCycles + c.isrReturn;
      }
      this.isrQueue.push(...publishes);
      this.schedule();
      return;
    }
    this.cpu.begin(at);
    this.t = at;
    this.spend(isrCycles);
    // The semaphore is free: the interrupt publishes itself, then returns.
    this.applyOutputs(publishes);
    this.spend(c.isrReturn);
    this.endJob();
  }

  // ---- packets from the link ----

  private receive(bytes: Buffer, at: number): boolean {
    if (!this.cpu.powered) return true;
    // The W5100 keeps receiving into a 2 KB ring; when full the TCP window is closed.
    if (this.rx.length > 0 && this.rxBytes + bytes.length > this.p.w5100.rxBufferBytes) return false;
    this.rx.push({ bytes, at });
    this.rxBytes += bytes.length;
    if (this.rxBytes > this.rxPeak) this.rxPeak = this.rxBytes;
    if (this.mqtt === "connecting") this.connackArrived(at);
    else this.schedule();
    return true;
  }

  private socketDied(sock: Socket, at: number, reason: DisconnectReason): void {
    if (this.sock !== sock || sock.closedAt !== undefined) return;
    sock.closedAt = at;
    sock.closeReason = reason;
    sock.up.close();
    sock.down.close();
    if (reason === "socket-timeout") this.abandon(sock.wire);
    this.schedule();
  }

  // ---- the loop ----

  /** When the loop next has something to do, and arm the one timer for it. */
  private schedule(): void {
    const next = this.nextWork();
    if (next === this.wakeAt && this.wake !== undefined) return;
    this.wake?.cancel();
    this.wake = undefined;
    this.wakeAt = next;
    if (next === Number.POSITIVE_INFINITY) return;
    this.wake = this.sched.at(next, () => {
      this.wake = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.run(next);
    });
  }

  private nextWork(): number {
    if (!this.cpu.powered || this.mqtt === "connecting") return Number.POSITIVE_INFINITY;
    const cpu = this.cpu;
    if (this.isrQueue.length > 0) return cpu.freeAt;
    let due = Number.POSITIVE_INFINITY;
    if (this.mqtt === "connected") {
      const head = this.rx[0];
      if (head) due = Math.min(due, head.at);
      if (this.sock?.closedAt !== undefined) due = Math.min(due, this.sock.closedAt);
      due = Math.min(due, Math.min(this.lastIn, this.lastOut) + this.keepaliveMs, this.syncDeadline);
    } else {
      due = this.lastAttempt + this.p.sketch.reconnectPeriodMs;
    }
    return due === Number.POSITIVE_INFINITY ? due : cpu.nextPoll(due);
  }

  private run(at: number): void {
    if (!this.cpu.powered || this.mqtt === "connecting") return;
    if (this.cpu.freeAt > at) {
      this.schedule();
      return;
    }
    if (this.isrQueue.length > 0) {
      // The interrupt path got the semaphore: it sends before the loop touches the chip again.
      const outs = this.isrQueue;
      this.isrQueue = [];
      this.cpu.begin(at);
      this.t = at;
      this.applyOutputs(outs);
      this.endJob();
      return;
    }
    if (this.nextWork() > at) {
      this.schedule();
      return;
    }
    this.iteration(at);
  }

  /** One loop() iteration that has work: reconnect, or PubSubClient::loop and one packet, and the core's tick. */
  private iteration(at: number): void {
    const c = this.p.cycles;
    this.cpu.begin(at);
    this.t = at;
    this.spend(c.loopOverhead + c.idlePoll);
    if (this.mqtt === "disconnected") {
      if (at >= this.lastAttempt + this.p.sketch.reconnectPeriodMs) {
        // The job stays open until CONNACK or the timeout when the handshake succeeded.
        if (this.reconnect()) return;
      }
      this.endJob();
      return;
    }
    const sock = this.sock;
    if (sock === undefined || (sock.closedAt !== undefined && sock.closedAt <= at)) {
      this.lost(sock?.closeReason ?? "closed");
      this.endJob();
      return;
    }
    // The same sums nextWork() woke for: `at - last >= keepalive` can miss by an ulp and spin.
    if (at >= this.lastIn + this.keepaliveMs || at >= this.lastOut + this.keepaliveMs) {
      if (this.pingOutstanding) {
        this.mqttStats.keepaliveTimeouts++;
        this.lost("keepalive");
        this.endJob();
        return;
      }
      this.mqttStats.pings++;
      this.send(generate({ cmd: "pingreq" }));
      this.lastIn = this.t;
      this.pingOutstanding = true;
    }
    const head = this.rx[0];
    if (head !== undefined && head.at <= at) this.readPacket();
    if (this.mqtt === "connected" && this.t >= this.syncDeadline) {
      this.syncDeadline = Number.POSITIVE_INFINITY;
      this.coreInput({ type: "tick" }, undefined);
    }
    this.endJob();
  }

  private readPacket(): void {
    const c = this.p.cycles;
    const item = this.rx.shift();
    if (item === undefined) return;
    const len = item.bytes.length;
    this.rxBytes -= len;
    this.spend(c.recvOverhead + c.spiReadPerByte * len);
    this.sock?.down.resume(this.t);
    this.mqttStats.packetsIn++;
    this.lastIn = this.t;
    if (len > this.maxPacket) {
      // PubSubClient drains a packet over its buffer and drops it: no callback, no error.
      this.mqttStats.oversizedDropped++;
      this.sink({ type: "oversized", node: this.node, at: this.t, bytes: len });
      return;
    }
    const pk = this.decode(item.bytes);
    if (pk === undefined) return;
    switch (pk.cmd) {
      case "publish": {
        const topic = pk.topic;
        const payload = pk.payload.toString();
        const qos = pk.qos === 1 ? 1 : 0;
        const via: Via | undefined = topic.includes("/state/")
          ? "state"
          : topic.endsWith(`/report/${this.node}`)
            ? "own-report"
            : topic.includes("/report/")
              ? "report"
              : undefined;
        if (via === "own-report") this.echoed(payload);
        this.coreInput({ type: "message", topic, payload, qos }, via);
        if (pk.qos === 1 && pk.messageId !== undefined)
          this.send(generate({ cmd: "puback", messageId: pk.messageId }));
        break;
      }
      case "pingresp":
        this.pingOutstanding = false;
        break;
      default:
        break;
    }
  }

  private decode(bytes: Buffer): Packet | undefined {
    this.parsed = undefined;
    this.parse.parse(bytes);
    return this.parsed;
  }

  /** Feeds the core and performs its outputs; reports state changes, syncs and held presses. */
  private coreInput(input: CoreInput, via: Via | undefined): void {
    const before = this.core.state;
    const ledAt = this.applyOutputs(this.feed(input, this.t, true).outs);
    const after = this.core.state;
    if (before.phase !== "synced" && after.phase === "synced") this.syncedBy(this.t, after.stamp);
    if (
      via !== undefined &&
      (before.stamp.counter !== after.stamp.counter || before.stamp.origin !== after.stamp.origin)
    ) {
      const at = ledAt ?? this.t;
      this.sink({ type: "applied", node: this.node, at, stamp: after.stamp, on: after.on, via });
    }
  }

  /** Runs the core and prices what it did; `spend`: charge the job now, before its outputs. */
  private feed(input: CoreInput, at: number, spend: boolean): { outs: CoreOutput[]; cycles: number } {
    const phaseBefore = this.core.state.phase;
    const graceExpired = phaseBefore === "syncing" && at >= this.core.syncDeadline;
    const outs = this.core.handle(input, at);
    const step = { input, outputs: outs, phaseBefore, phaseAfter: this.core.state.phase, graceExpired };
    const cycles = coreCost(this.p.coreCycles, step);
    if (spend) this.spend(cycles);
    return { outs, cycles };
  }

  /** The sync completed at `at` (the core's stamp is `stamp`): report it and any presses it stamped. */
  private syncedBy(at: number, stamp: Stamp): void {
    this.syncDeadline = Number.POSITIVE_INFINITY;
    this.sink({ type: "synced", node: this.node, at, stamp });
    if (this.held > 0) {
      this.sink({ type: "held-applied", node: this.node, at, stamp, presses: this.held });
      this.held = 0;
    }
  }

  /** Performs core outputs in order at the job's time; returns when the first LED write finished. */
  private applyOutputs(outs: readonly CoreOutput[]): number | undefined {
    let ledAt: number | undefined;
    for (const o of outs) {
      switch (o.type) {
        case "led":
          this.spend(this.p.cycles.digitalWrite);
          ledAt ??= this.t;
          break;
        case "publish":
          this.send(
            generate({
              cmd: "publish",
              topic: o.topic,
              payload: o.payload,
              qos: 0,
              retain: o.retain,
              dup: false,
            }),
          );
          if (o.topic.endsWith(`/report/${this.node}`)) this.reportSent(o.payload);
          break;
        case "subscribe":
          this.send(
            generate({
              cmd: "subscribe",
              messageId: this.msgId(),
              subscriptions: [{ topic: o.topic, qos: o.qos }],
            }),
          );
          break;
        case "unsubscribe":
          this.send(generate({ cmd: "unsubscribe", messageId: this.msgId(), unsubscriptions: [o.topic] }));
          break;
        case "drop":
          this.sink({ type: "drop", node: this.node, at: this.t, reason: o.reason, topic: o.topic });
          break;
      }
    }
    return ledAt;
  }

  /**
   * Remembers when an own report first went out (TCP keeps order, so the first copy read is the echo
   * of the first publish); a bounded number: older ones are not timed.
   */
  private reportSent(payload: string): void {
    if (this.reportsSent.has(payload)) return;
    this.reportsSent.set(payload, { at: this.t, stamp: this.core.state.stamp });
    if (this.reportsSent.size > 64) {
      const oldest = this.reportsSent.keys().next();
      if (!oldest.done) this.reportsSent.delete(oldest.value);
    }
  }

  private echoed(payload: string): void {
    const sent = this.reportsSent.get(payload);
    if (sent === undefined) return;
    this.reportsSent.delete(payload);
    this.sink({ type: "echo", node: this.node, at: this.t, publishedAt: sent.at, stamp: sent.stamp });
  }

  private msgId(): number {
    const id = this.nextMsgId;
    this.nextMsgId = id >= 65_535 ? 1 : id + 1;
    return id;
  }

  /** PubSubClient write: build the packet, wait for TX room, copy it to the W5100 and SEND. */
  private send(bytes: Buffer): void {
    if (bytes.length > this.maxPacket) {
      this.mqttStats.oversizedPublishes++;
      return;
    }
    const c = this.p.cycles;
    this.spend(c.packetBuildPerByte * bytes.length); // the core's payload is priced in its step
    const sock = this.sock;
    if (sock === undefined || (sock.closedAt !== undefined && sock.closedAt <= this.t)) return;
    const room = sock.up.drainedTo(this.p.w5100.txBufferBytes - bytes.length, this.t);
    if (room > this.t && room !== Number.POSITIVE_INFINITY) this.blockUntil(room);
    this.spend(c.spiWritePerByte * bytes.length + c.sendOverhead);
    sock.up.send(bytes, this.t);
    this.lastOut = this.t;
    this.mqttStats.packetsOut++;
  }

  // ---- connect / disconnect ----

  /** The sketch's reconnect(): EthernetClient connect (TCP handshake), then PubSubClient's CONNECT. */
  private reconnect(): boolean {
    this.lastAttempt = this.t;
    const start = this.t;
    const hs = this.opts.link.handshake(this.t);
    this.blockUntil(hs.at);
    if (!hs.ok) {
      this.mqttStats.connectFailures++;
      this.sink({ type: "connect-failed", node: this.node, at: this.t, reason: "handshake" });
      return false;
    }
    const link = this.opts.link;
    let sock: Socket | undefined;
    // The real connection opens when the successful SYN reaches the broker's host.
    const synArrives = hs.at - this.p.network.oneWayLatencyMs;
    const wire = wireAt(
      this.opts.wire,
      {
        packet: (bytes) => sock?.down.send(bytes, this.sched.now()),
        closed: (refused) => {
          this.abandoned.delete(wire); // the broker closed it (keepalive or takeover): nothing left to free
          if (!sock) return;
          if (refused && this.sock === sock) this.connectRefused(this.sched.now());
          else this.socketDied(sock, this.sched.now(), "closed");
        },
      },
      this.sched,
      synArrives,
    );
    const paths = link.connect(
      {
        deliver: (b) => {
          wire.write(b);
          return true;
        },
        timedOut: (at) => {
          if (sock) this.socketDied(sock, at, "socket-timeout");
        },
      },
      {
        deliver: (b, at) => this.receive(b, at),
        timedOut: (at) => {
          if (sock) this.socketDied(sock, at, "socket-timeout");
        },
      },
    );
    sock = { wire, up: paths.up, down: paths.down, closedAt: undefined, closeReason: "closed" };
    this.sock = sock;
    this.rx = [];
    this.rxBytes = 0;
    this.send(generate(this.connectPacket()));
    this.mqtt = "connecting";
    this.connectingSince = start;
    this.cpu.freeAt = Number.POSITIVE_INFINITY;
    const deadline = this.t + this.p.mqtt.socketTimeoutS * 1000;
    this.connackTimer = this.sched.at(deadline, () => this.connectTimedOut(deadline));
    return true;
  }

  private connectPacket(): IConnectPacket {
    const { prefix, id } = this.opts.core;
    const will = encode(prefix, { kind: "status", node: id, online: false });
    return {
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: `${prefix}-${id}`,
      clean: true,
      keepalive: this.p.mqtt.keepaliveS,
      username: this.opts.username,
      password: this.opts.password === undefined ? undefined : Buffer.from(this.opts.password),
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    };
  }

  private connackArrived(at: number): void {
    this.blockUntil(at);
    this.connackTimer?.cancel();
    this.mqtt = "disconnected";
    const item = this.rx.shift();
    if (item === undefined) return;
    this.rxBytes -= item.bytes.length;
    const c = this.p.cycles;
    this.spend(c.recvOverhead + c.spiReadPerByte * item.bytes.length);
    const pk = this.decode(item.bytes);
    if (pk?.cmd !== "connack" || pk.returnCode !== 0) {
      this.mqttStats.connectFailures++;
      this.sink({ type: "connect-failed", node: this.node, at: this.t, reason: "refused" });
      this.dropSocket(true);
      this.endJob();
      return;
    }
    this.mqtt = "connected";
    this.mqttStats.connects++;
    if (this.everConnected) this.mqttStats.reconnects++;
    this.everConnected = true;
    this.lastAttempt = Number.NEGATIVE_INFINITY; // the sketch resets it so a drop reconnects at once
    this.lastIn = this.t;
    this.lastOut = this.t;
    this.pingOutstanding = false;
    this.sink({ type: "connected", node: this.node, at: this.t, attemptAt: this.connectingSince });
    this.coreInput({ type: "connected" }, undefined);
    // The core owns the grace rule; waking at its own deadline keeps the two from disagreeing.
    this.syncDeadline = this.core.syncDeadline;
    this.endJob();
  }

  /**
   * Nothing listens on the broker's port (it died): the W5100 gets a reset to its SYN, so
   * EthernetClient::connect() returns failure at once and the sketch retries after its period.
   */
  private connectRefused(at: number): void {
    if (this.mqtt !== "connecting") return;
    this.connackTimer?.cancel();
    this.blockUntil(at);
    this.mqtt = "disconnected";
    this.mqttStats.connectFailures++;
    this.sink({ type: "connect-failed", node: this.node, at, reason: "handshake" });
    this.dropSocket(true);
    this.endJob();
  }

  private connectTimedOut(at: number): void {
    if (this.mqtt !== "connecting") return;
    this.blockUntil(at);
    this.mqtt = "disconnected";
    this.mqttStats.connectFailures++;
    this.sink({ type: "connect-failed", node: this.node, at, reason: "connack-timeout" });
    this.dropSocket(true);
    this.endJob();
  }

  /** The connection is gone (noticed by the loop): the core goes offline, the socket is released. */
  private lost(reason: DisconnectReason): void {
    this.mqtt = "disconnected";
    this.dropSocket(true);
    this.syncDeadline = Number.POSITIVE_INFINITY;
    this.sink({ type: "disconnected", node: this.node, at: this.t, reason });
    this.coreInput({ type: "disconnected" }, undefined);
  }

  /**
   * The power goes: the W5100 stops at once — it receives nothing more and retransmits nothing — but
   * what it already put on the cable still reaches the broker; then the socket is abandoned (no FIN).
   */
  private cutSocket(at: number): void {
    const sock = this.sock;
    this.sock = undefined;
    this.rx = [];
    this.rxBytes = 0;
    if (sock === undefined) return;
    sock.down.close();
    if (sock.closedAt !== undefined) {
      sock.up.close();
      this.abandon(sock.wire);
      return;
    }
    this.abandoned.add(sock.wire);
    sock.up.cut(at, () => sock.wire.abandon());
  }

  /** Releases the W5100 socket; `fin`: PubSubClient's stop() sends a FIN if the cable carries it. */
  private dropSocket(fin: boolean): void {
    const sock = this.sock;
    this.sock = undefined;
    this.rx = [];
    this.rxBytes = 0;
    if (sock === undefined) return;
    sock.up.close();
    sock.down.close();
    if (fin && sock.closedAt === undefined && this.opts.link.upAt(this.t)) sock.wire.destroy();
    else this.abandon(sock.wire);
  }

  private abandon(wire: Wire): void {
    wire.abandon();
    this.abandoned.add(wire);
  }

  // ---- time accounting ----

  private spend(cycles: number): void {
    this.cpu.work += cycles;
    this.t += this.cpu.ms(cycles);
  }

  private blockUntil(at: number): void {
    if (at <= this.t) return;
    this.cpu.blocked += this.cpu.cycles(at - this.t);
    this.t = at;
  }

  private endJob(): void {
    this.cpu.end(this.t);
    this.schedule();
  }

  /** A snapshot of the counters (copies: later activity does not change it). */
  stats(now: number): NodeStats {
    const l = this.opts.link.stats;
    return {
      cpu: this.cpu.stats(now, this.mqtt === "connecting" ? this.t : undefined),
      link: { ...l, up: { ...l.up }, down: { ...l.down } },
      mqtt: { ...this.mqttStats },
      rxBytes: this.rxBytes,
      rxPeakBytes: this.rxPeak,
      ram: this.ram,
    };
  }
}
