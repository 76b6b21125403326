/**
 * SimNode: one simulated board — one MQTT session to the broker plus the device model — behind the
 * small API a fleet runner drives: start/stop, presses (single or planned), power cycles, cable
 * pulls, loss changes, events to a sink and counters on demand. No global state: any number of
 * nodes share one scheduler in one thread.
 */
import { z } from "zod";
import { NODE_KINDS, NodeId, Prefix } from "../protocol/index.js";
import { Board } from "./board.js";
import type { NodeCoreState } from "./core.js";
import { Link } from "./link.js";
import { type LossSpec, lossSpecSchema } from "./loss.js";
import type { NodeEventSink, NodeStats } from "./metrics.js";
import { type PressPlan, pressPlanSchema, runPressPlan } from "./presses.js";
import { type DeviceProfile, loadProfile } from "./profile.js";
import { nodeRandom } from "./rng.js";
import type { Scheduler, Timer } from "./scheduler.js";
import { LINUX_DELACK_MIN_MS } from "./tcp-side.js";
import type { WireFactory } from "./wire.js";

/** The plain-data part of a node's configuration, validated once here. */
export const simNodeConfigSchema = z
  .object({
    id: z.string(),
    prefix: z.string().default("tf"),
    kind: z.enum(NODE_KINDS).default("sim"),
    firmware: z
      .string()
      .regex(/^[0-9A-Za-z.+-]{1,12}$/, "must be 1-12 characters of 0-9 A-Z a-z . + -")
      .default("1.0.0"),
    /** Scenario seed: the node's random streams derive from it and the node id. */
    seed: z.string().min(1),
    loss: lossSpecSchema.default({ kind: "none" }),
    maxPacketBytes: z.number().int().min(8).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
  })
  .strict();

export type SimNodeConfig = z.input<typeof simNodeConfigSchema>;

export interface SimNodeOptions extends SimNodeConfig {
  /** A loaded profile or the name of one in profiles/devices/. */
  readonly profile: DeviceProfile | string;
  readonly sched: Scheduler;
  readonly wire: WireFactory;
  readonly sink?: NodeEventSink;
}

export class SimNodeConfigError extends Error {
  override readonly name = "SimNodeConfigError";
}

export class SimNode {
  readonly id: NodeId;
  readonly profile: DeviceProfile;
  private readonly board: Board;
  private readonly link: Link;
  private readonly sched: Scheduler;
  private readonly seed: string;
  private plans = new Set<Timer>();
  private planCount = 0;
  private powerTimer: Timer | undefined;

  constructor(opts: SimNodeOptions) {
    const { profile, sched, wire, sink, ...data } = opts;
    const parsed = simNodeConfigSchema.safeParse(data);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new SimNodeConfigError(`node ${JSON.stringify(data.id)}: ${lines.join("; ")}`);
    }
    const cfg = parsed.data;
    let id: NodeId;
    let prefix: Prefix;
    try {
      id = NodeId(cfg.id);
      prefix = Prefix(cfg.prefix);
    } catch (e) {
      throw new SimNodeConfigError(`node options: ${(e as Error).message}`);
    }
    this.id = id;
    this.sched = sched;
    this.seed = cfg.seed;
    this.profile = typeof profile === "string" ? loadProfile(profile) : profile;
    const p = this.profile;
    this.link = new Link({
      sched,
      nodePolicy: { firstRtoMs: p.w5100.rtrMs, capMs: p.w5100.rtoCapMs, retries: p.w5100.rcr },
      brokerPolicy: {
        firstRtoMs: p.brokerTcp.rtoMinMs,
        capMs: p.brokerTcp.rtoMaxMs,
        retries: p.brokerTcp.retries,
      },
      // The broker's host is Linux (RTO from SRTT/RTTVAR, backoff, TLP); Aedes sets TCP_NODELAY.
      brokerTcp: { linux: true, nagle: false, delayedAckMs: LINUX_DELACK_MIN_MS },
      nodeTcp: p.nodeTcp
        ? { linux: true, nagle: p.nodeTcp.nagle, delayedAckMs: p.nodeTcp.delayedAckMs }
        : undefined,
      synPolicy: p.nodeTcp
        ? { firstRtoMs: p.nodeTcp.synRtoMs, capMs: p.w5100.rtoCapMs, retries: p.nodeTcp.synRetries }
        : undefined,
      ackLoss: true,
      latencyMs: p.network.oneWayLatencyMs,
      connectTimeoutMs: p.w5100.connectTimeoutMs,
      randUp: nodeRandom(cfg.seed, id, "loss-up"),
      randDown: nodeRandom(cfg.seed, id, "loss-down"),
      loss: cfg.loss,
      lossFree: p.network.lossFree,
    });
    this.board = new Board({
      core: {
        id,
        prefix,
        kind: cfg.kind,
        profile: p.name,
        firmware: cfg.firmware,
        syncGraceMs: p.sketch.syncGraceMs,
      },
      profile: p,
      sched,
      link: this.link,
      wire,
      sink,
      username: cfg.username,
      password: cfg.password,
      maxPacketBytes: cfg.maxPacketBytes,
    });
  }

  /** Powers the board on now (or at `at`); it connects and syncs on its own. */
  start(at = this.sched.now()): void {
    this.board.powerOn(at);
  }

  /** Stops every plan and timer and closes the socket. */
  stop(): void {
    for (const p of this.plans) p.cancel();
    this.plans.clear();
    this.powerTimer?.cancel();
    this.board.shutdown();
  }

  /** One button press now, or at a given time. */
  press(at?: number): void {
    if (at === undefined || at <= this.sched.now()) this.board.press(at ?? this.sched.now());
    else this.plans.add(this.sched.at(at, () => this.pressNow()));
  }

  /**
   * A planned press happens when its timer fires, and the interrupt — the start of every sync
   * latency — is when the press really reaches the board. On wall time a timer fires up to a
   * millisecond before or after its planned instant (Node's timers count whole milliseconds of a
   * cached loop clock). Taking the planned instant when the timer fired early would put the press in
   * the future: its publish, due then, would wait for another timer, at least a millisecond. On fake
   * time the two instants are equal.
   */
  private pressNow(): void {
    this.board.press(this.sched.now());
  }

  /** Starts a press plan (Poisson, burst or script); returns a handle to stop it. */
  addPresses(plan: PressPlan): Timer {
    const p = pressPlanSchema.parse(plan);
    const t = runPressPlan(
      p,
      this.sched,
      nodeRandom(`${this.seed}\u0000${this.planCount++}`, this.id, "press"),
      () => this.pressNow(),
    );
    this.plans.add(t);
    return t;
  }

  /** Cuts the power now for `offMs`, then boots again: RAM is lost, pairings come back from the broker. */
  powerCycle(offMs: number): void {
    const now = this.sched.now();
    this.board.powerOff(now);
    this.powerTimer?.cancel();
    this.powerTimer = this.sched.at(now + offMs, () => this.board.powerOn(now + offMs));
  }

  /** Cuts the power until start() (a pending power cycle's boot is called off). */
  powerOff(): void {
    this.powerTimer?.cancel();
    this.board.powerOff(this.sched.now());
  }

  pullCable(): void {
    this.link.pullCable(this.sched.now());
  }

  plugCable(): void {
    this.link.plugCable(this.sched.now());
  }

  setLoss(spec: LossSpec): void {
    this.link.setLoss(lossSpecSchema.parse(spec));
  }

  get state(): NodeCoreState {
    return this.board.core.state;
  }

  get connected(): boolean {
    return this.board.connected;
  }

  stats(): NodeStats {
    return this.board.stats(this.sched.now());
  }
}
