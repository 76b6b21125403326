/**
 * The board: an Arduino running the twinfleet sketch, as an event-driven model. It composes the
 * parts — the CPU's timeline (`cpu.ts`), PubSubClient's session (`pubsub-session.ts`), the W5100's
 * socket and RX buffer (`w5100-socket.ts`), the echo timer (`echo-timer.ts`) and NodeCore — and owns
 * the sketch's foreground/background structure: `loop()` handles at most one packet per iteration
 * and wakes on one timer, the button interrupt updates state and LED at once and publishes, a
 * semaphore gives the Ethernet controller to one of them at a time. It feeds the core and charges
 * what the step cost (`core-feed.ts`), performs its outputs (`board-outputs.ts`) and reports boots,
 * presses, syncs and applied states.
 */

import type { NodeId, Stamp } from "../protocol/index.js";
import { BoardOutputs } from "./board-outputs.js";
import { type CoreInput, type CoreOutput, NodeCore, type NodeCoreConfig } from "./core.js";
import { CoreFeed } from "./core-feed.js";
import { Cpu } from "./cpu.js";
import { Debounce } from "./debounce.js";
import { EchoTimer } from "./echo-timer.js";
import type { Link } from "./link.js";
import type { DisconnectReason, MqttStats, NodeEventSink, NodeStats } from "./metrics.js";
import { type DeviceProfile, ProfileError } from "./profile.js";
import { PubSubSession } from "./pubsub-session.js";
import { checkRam, type RamBudget } from "./ram.js";
import { type Scheduler, type TimerSlot, timerSlot } from "./scheduler.js";
import { W5100Socket } from "./w5100-socket.js";
import type { WireFactory } from "./wire.js";

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

type Via = "report" | "state" | "own-report";

const NOOP_SINK: NodeEventSink = () => {};

export class Board {
  readonly core: NodeCore;
  readonly ram: RamBudget;
  private readonly cpu: Cpu;
  private readonly chip: W5100Socket;
  private readonly session: PubSubSession;
  private readonly echo = new EchoTimer();
  private readonly coreFeed: CoreFeed;
  private readonly outputs: BoardOutputs;
  private readonly debounce: Debounce;
  private readonly p: DeviceProfile;
  private readonly sched: Scheduler;
  private readonly sink: NodeEventSink;
  private readonly node: NodeId;

  /** Interrupt-path publishes waiting for the Ethernet controller (the semaphore). */
  private isrQueue: CoreOutput[] = [];
  /** The loop's one wake-up, armed at `wakeAt` (Infinity: not armed). */
  private readonly wake: TimerSlot;
  private wakeAt = Number.POSITIVE_INFINITY;
  private held = 0;
  /** The cycles of the core's last step (`feed`). */
  private fedCycles = 0;
  private syncDeadline = Number.POSITIVE_INFINITY;
  /** The end of the node's own report topic, made once (it is compared on every message and publish). */
  private readonly ownReport: string;

  constructor(private readonly opts: BoardOptions) {
    this.p = opts.profile;
    this.sched = opts.sched;
    this.sink = opts.sink ?? NOOP_SINK;
    this.node = opts.core.id;
    this.ownReport = `/report/${this.node}`;
    this.debounce = new Debounce(this.p.sketch.debounceMs, this.node, this.sink, this.p.w5100.resetWaitMs);
    // Re-armed on nearly every packet: a slot, not a new timer and closure each time.
    this.wake = timerSlot(opts.sched, () => {
      const at = this.wakeAt;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.run(at);
    });
    const maxPacketBytes = opts.maxPacketBytes ?? this.p.mqtt.maxPacketBytes;
    // As profile.ts refuses it in a file: a W5100 would send such a packet cut (docs/device-model.md).
    const tx = this.p.w5100.txBufferBytes;
    if (this.p.nodeTcp === undefined && maxPacketBytes > tx)
      throw new ProfileError(
        `a ${maxPacketBytes} B PubSubClient buffer is over the W5100's ${tx} B TX buffer`,
      );
    this.ram = checkRam(this.p, { maxPacketBytes });
    this.core = new NodeCore(opts.core);
    this.coreFeed = new CoreFeed(this.core, this.p.coreCycles);
    const c = this.p.cycles;
    this.cpu = new Cpu(this.p.mcu.clockHz, this.p.loop.idlePeriodUs / 1000, c.idlePoll + c.loopOverhead);
    this.chip = new W5100Socket({
      link: opts.link,
      wire: opts.wire,
      sched: opts.sched,
      rxBufferBytes: this.p.w5100.rxBufferBytes,
      keepBytes: maxPacketBytes + 1,
    });
    this.session = new PubSubSession({
      node: opts.core.id,
      prefix: opts.core.prefix,
      profile: this.p,
      cpu: this.cpu,
      chip: this.chip,
      link: opts.link,
      sched: opts.sched,
      sink: this.sink,
      username: opts.username,
      password: opts.password,
      maxPacketBytes,
      host: {
        endJob: () => this.endJob(),
        readEnded: (gone) => this.afterRead(gone),
        schedule: () => this.schedule(),
        message: (topic, payload, qos) => this.message(topic, payload, qos),
        connected: () => {
          this.coreInput({ type: "connected" }, undefined);
          // The core owns the grace rule; waking at its own deadline keeps the two from disagreeing.
          this.syncDeadline = this.core.syncDeadline;
        },
      },
    });
    this.outputs = new BoardOutputs({
      core: this.core,
      cpu: this.cpu,
      session: this.session,
      echo: this.echo,
      sink: this.sink,
      node: this.node,
      ownReport: this.ownReport,
      digitalWriteCycles: this.p.cycles.digitalWrite,
    });
  }

  /** PubSubClient's counters (live: the snapshot is in `stats()`). */
  get mqttStats(): MqttStats {
    return this.session.stats;
  }

  get powered(): boolean {
    return this.cpu.powered;
  }

  get connected(): boolean {
    return this.session.connected;
  }

  // ---- power ----

  /** Power on at `at`: setup() runs Ethernet.begin (the shield's reset wait), then the loop connects. */
  powerOn(at: number): void {
    if (this.cpu.powered) return;
    this.cpu.powerOn(at);
    this.debounce.powerOn(at);
    this.held = 0;
    this.syncDeadline = Number.POSITIVE_INFINITY;
    this.session.powerOn();
    this.sink({ type: "boot", node: this.node, at });
    this.cpu.begin(at);
    this.outputs.apply(this.feed({ type: "boot" }, at, true));
    this.cpu.blockUntil(at + this.p.w5100.resetWaitMs);
    this.endJob();
  }

  /** Power cut at `at`: everything in RAM is lost; the broker is not told (no FIN). */
  powerOff(at: number): void {
    if (!this.cpu.powered) return;
    this.wake.cancel();
    this.wakeAt = Number.POSITIVE_INFINITY;
    this.isrQueue = [];
    this.session.powerOff(at);
    this.cpu.powerOff(at);
  }

  /** Node stopped for good: close the socket for real. */
  shutdown(): void {
    this.chip.destroyCurrent();
    this.powerOff(this.sched.now());
    this.chip.destroyAbandoned();
  }

  // ---- the button interrupt ----

  /** The button interrupt at `at`, if not debounced: state and LED at once, the publish when the chip is free. */
  press(at: number): void {
    if (!this.cpu.powered || !this.debounce.take(at)) return;
    const c = this.p.cycles;
    const wasSynced = this.core.syncPhase === "synced";
    const outs = this.feed({ type: "press" }, at, false);
    const cycles = this.fedCycles;
    const publishes = outs.filter((o) => o.type !== "led");
    const isrCycles =
      c.isrEntry + c.isrDispatch + c.digitalRead + cycles + (outs.length - publishes.length) * c.digitalWrite;
    let stamp: Stamp | undefined;
    if (publishes.length > 0) stamp = this.core.currentStamp;
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
    this.cpu.spend(isrCycles);
    // The semaphore is free: the interrupt publishes itself, then returns.
    this.outputs.apply(publishes);
    this.cpu.spend(c.isrReturn);
    this.endJob();
  }

  // ---- the loop ----

  /** When the loop next has something to do, and arm the one timer for it. */
  private schedule(): void {
    const next = this.nextWork();
    if (next === this.wakeAt) return;
    this.wakeAt = next;
    if (next === Number.POSITIVE_INFINITY) this.wake.cancel();
    else this.wake.set(next);
  }

  private nextWork(): number {
    if (!this.cpu.powered || this.session.blocked) return Number.POSITIVE_INFINITY;
    const cpu = this.cpu;
    if (this.isrQueue.length > 0) return cpu.freeAt;
    let due = this.session.dueAt();
    if (this.session.connected) due = Math.min(due, this.syncDeadline);
    return due === Number.POSITIVE_INFINITY ? due : cpu.nextPoll(due);
  }

  private run(at: number): void {
    if (!this.cpu.powered || this.session.blocked) return;
    if (this.cpu.freeAt > at) {
      this.schedule();
      return;
    }
    if (this.isrQueue.length > 0) {
      // The interrupt path got the semaphore: it sends before the loop touches the chip again.
      const outs = this.isrQueue;
      this.isrQueue = [];
      this.cpu.begin(at);
      this.outputs.apply(outs);
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
    const s = this.session;
    this.cpu.begin(at);
    this.cpu.spend(c.loopOverhead + c.idlePoll);
    if (s.phase === "disconnected") {
      // The job stays open until CONNACK or the timeout when the handshake succeeded.
      if (s.reconnectDue(at) && s.reconnect()) return;
      this.endJob();
      return;
    }
    let gone = s.check(at);
    if (gone === undefined && s.packetReady(at)) {
      const read = s.readPacket(at);
      if (read === "reading") return; // held in readPacket(): the job ends with the packet or a gap
      gone = read;
    }
    this.afterRead(gone);
  }

  /** The rest of a loop() iteration after its read: the session lost (`gone`), or the core's tick. */
  private afterRead(gone: DisconnectReason | undefined): void {
    const s = this.session;
    if (gone !== undefined) {
      s.lost(gone);
      this.syncDeadline = Number.POSITIVE_INFINITY;
      this.coreInput({ type: "disconnected" }, undefined);
      this.endJob();
      return;
    }
    if (s.connected && this.cpu.t >= this.syncDeadline) {
      this.syncDeadline = Number.POSITIVE_INFINITY;
      this.coreInput({ type: "tick" }, undefined);
    }
    this.endJob();
  }

  /** The sketch's MQTT callback: which kind of message it is, the echo timing, then the core. */
  private message(topic: string, payload: string, qos: 0 | 1): void {
    const via: Via | undefined = topic.includes("/state/")
      ? "state"
      : topic.endsWith(this.ownReport)
        ? "own-report"
        : topic.includes("/report/")
          ? "report"
          : undefined;
    if (via === "own-report") {
      const sent = this.echo.echoed(payload);
      if (sent !== undefined)
        this.sink({ type: "echo", node: this.node, at: this.cpu.t, publishedAt: sent.at, stamp: sent.stamp });
    }
    this.coreInput({ type: "message", topic, payload, qos }, via);
  }

  // ---- the core ----

  /** Feeds the core and performs its outputs; reports state changes, syncs and held presses. */
  private coreInput(input: CoreInput, via: Via | undefined): void {
    const core = this.core;
    const phaseBefore = core.syncPhase;
    const stampBefore = core.currentStamp;
    const version = core.pairingVersion;
    const ledAt = this.outputs.apply(this.feed(input, this.cpu.t, true));
    const stamp = core.currentStamp;
    // A config adopted, or a follow or unfollow carried out: the sources it follows from now on.
    if (core.pairingVersion !== version && core.pairingVersion > 0)
      this.sink({ type: "sources", node: this.node, at: this.cpu.t, sources: core.state.sources });
    if (phaseBefore !== "synced" && core.syncPhase === "synced") this.syncedBy(this.cpu.t, stamp);
    if (via !== undefined && (stampBefore.counter !== stamp.counter || stampBefore.origin !== stamp.origin)) {
      const at = ledAt ?? this.cpu.t;
      this.sink({ type: "applied", node: this.node, at, stamp, on: core.isOn, via });
    }
  }

  /** Runs the core, prices what it did (`fedCycles`), returns its outputs; `spend`: charge it first. */
  private feed(input: CoreInput, at: number, spend: boolean): CoreOutput[] {
    const outs = this.coreFeed.feed(input, at);
    this.fedCycles = this.coreFeed.cycles;
    if (spend) this.cpu.spend(this.fedCycles);
    return outs;
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

  private endJob(): void {
    this.cpu.end(this.cpu.t);
    this.schedule();
  }

  /** A snapshot of the counters (copies: later activity does not change it). */
  stats(now: number): NodeStats {
    const l = this.opts.link.stats;
    return {
      cpu: this.cpu.stats(now, this.session.blocked ? this.cpu.t : undefined),
      link: { ...l, up: { ...l.up }, down: { ...l.down } },
      mqtt: { ...this.session.stats, drops: { ...this.session.stats.drops } },
      rxBytes: this.chip.rxBytes,
      rxPeakBytes: this.chip.rxPeak,
      ram: this.ram,
    };
  }
}
