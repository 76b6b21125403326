/**
 * The demo fleet as a ConsoleSource (`twinfleet monitor --demo`): drives the deterministic model in
 * console/demo/ on a timer of its scheduler, keeps the convergence history and serves snapshots.
 * Tests advance it by hand with `advanceTo`, or advance a FakeScheduler, and see the same fleet
 * every time.
 */
import { every, RealScheduler, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import { DEMO_DEFAULTS, DemoFleet, type DemoOptions } from "./demo/fleet-model.js";
import { ConsoleEmitter } from "./emitter.js";
import {
  type Capabilities,
  CommandRefused,
  type ConsoleEvents,
  type ConsoleFault,
  type ConsoleNode,
  type ConsoleSource,
  type ConvergenceSnapshot,
  type LatencySnapshot,
  type Listener,
  type NodeDetail,
  unsupported,
} from "./source.js";

export interface DemoSourceOptions extends Partial<DemoOptions> {
  /** The clock the model follows and its timer. Default a RealScheduler. */
  readonly scheduler?: Scheduler;
}

const SAMPLE_MS = 250;
const HISTORY_KEPT = 2400;
const ALL: Capabilities = {
  setLoss: true,
  press: true,
  set: true,
  pair: true,
  unpair: true,
  powerCycle: true,
  pullCable: true,
  query: true,
  // The model has no broker, and no power outage beyond a node's power cycle.
  restartBroker: false,
  powerOutage: false,
};

export class DemoSource implements ConsoleSource {
  readonly capabilities = ALL;
  readonly title: string;
  readonly fleet: DemoFleet;
  private readonly events = new ConsoleEmitter();
  private readonly sched: Scheduler;
  private readonly start: number;
  private readonly history: { t: number; fraction: number }[] = [];
  private timer: Timer | undefined;
  private cache: readonly ConsoleNode[] | undefined;

  constructor(options: DemoSourceOptions = {}) {
    const o: DemoOptions = { ...DEMO_DEFAULTS, ...stripUndefined(options) };
    this.fleet = new DemoFleet(o, (level, text) => this.log(level, text));
    this.title = `demo ${o.nodes} nodes, rings of ${o.groupSize}, seed ${o.seed}`;
    this.sched = options.scheduler ?? new RealScheduler();
    this.start = this.sched.now();
    this.sample();
  }

  /** Advances the fleet with the clock every 50 ms until `stop()`. */
  run(): this {
    this.timer ??= every(this.sched, 50, () => this.advanceTo(this.sched.now() - this.start));
    return this;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Runs the model to `t` ms after the start; emits `changed` once if anything happened. */
  advanceTo(t: number): void {
    let changed = false;
    while (this.fleet.now + 50 <= t) {
      changed = this.fleet.advance(Math.min(t, this.fleet.now + SAMPLE_MS)) || changed;
      if (this.fleet.now - (this.history.at(-1)?.t ?? 0) >= SAMPLE_MS) this.sample();
    }
    if (changed) this.touch();
  }

  now(): number {
    return this.fleet.now;
  }

  nodes(): readonly ConsoleNode[] {
    if (this.cache) return this.cache;
    this.cache = this.fleet.nodes.map((n, i) => {
      const s = this.fleet.inSync(i);
      return {
        id: n.id,
        kind: n.kind,
        on: n.on,
        online: n.online,
        sync: s === undefined ? "unknown" : s ? "in-sync" : "out-of-sync",
      };
    });
    return this.cache;
  }

  detail(id: NodeId): NodeDetail | undefined {
    const i = this.fleet.byId.get(id);
    const n = i === undefined ? undefined : this.fleet.nodes[i];
    const node = i === undefined ? undefined : this.nodes()[i];
    if (!n || !node) return undefined;
    const idsOf = (ks: readonly number[]) => ks.flatMap((k) => this.fleet.nodes[k]?.id ?? []);
    const rate = n.rate * Math.exp(-(this.fleet.now - n.rateAt) / 5000);
    return {
      node,
      follows: idsOf(n.follows),
      followers: idsOf(n.followers),
      identity: n.kind === "real" ? "uno-w5100 fw 1.0.0 (board)" : "uno-w5100 fw 1.0.0 (model)",
      cpuPct: 1.5 + rate * 0.9,
      ramBytes: 1180 + 24 * n.follows.length,
      link: { retransmissions: n.retransmissions, timeouts: n.timeouts, reconnects: n.reconnects },
      cablePulled: n.cablePulled,
      lastMessages: [...n.messages],
    };
  }

  convergence(): ConvergenceSnapshot {
    const { inSync, known } = this.fleet.fraction();
    return { fraction: known === 0 ? 1 : inSync / known, inSync, known, history: this.history };
  }

  latency(): LatencySnapshot {
    return this.fleet.latency.snapshot();
  }

  lossPct(): number {
    return this.fleet.lossPct;
  }

  faults(): readonly ConsoleFault[] {
    return [];
  }

  async setLoss(pct: number): Promise<void> {
    if (!(pct >= 0 && pct <= 100)) throw new RangeError(`loss must be 0..100, not ${pct}`);
    this.fleet.lossPct = pct;
    this.touch();
  }

  async press(id: NodeId): Promise<void> {
    this.fleet.press(this.index(id));
    this.touch();
  }

  async set(id: NodeId, on: boolean): Promise<undefined> {
    this.fleet.set(this.index(id), on);
    this.touch();
    return undefined;
  }

  async pair(follower: NodeId, source: NodeId): Promise<undefined> {
    const err = this.fleet.follow(this.index(follower), this.index(source));
    if (err) throw new CommandRefused(err);
    this.log("info", `${follower} follows ${source}`);
    this.touch();
  }

  async unpair(follower: NodeId, source: NodeId): Promise<undefined> {
    const err = this.fleet.unfollow(this.index(follower), this.index(source));
    if (err) throw new CommandRefused(err);
    this.log("info", `${follower} no longer follows ${source}`);
    this.touch();
  }

  async powerCycle(id: NodeId): Promise<void> {
    this.fleet.disconnect(this.index(id), 2500);
    this.touch();
  }

  async pullCable(id: NodeId, pulled: boolean): Promise<void> {
    this.fleet.plug(this.index(id), pulled);
    this.log("info", `${id} cable ${pulled ? "pulled" : "plugged in"}`);
    this.touch();
  }

  async query(): Promise<void> {
    const online = this.fleet.nodes.filter((n) => n.online).length;
    this.log("info", `query: ${online} of ${this.fleet.nodes.length} nodes answered`);
  }

  readonly restartBroker = unsupported("restartBroker");
  readonly powerOutage = unsupported("powerOutage");

  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void {
    return this.events.on(event, listener);
  }

  private index(id: NodeId): number {
    const i = this.fleet.byId.get(id);
    if (i === undefined) throw new CommandRefused(`no node ${id} in this fleet`);
    return i;
  }

  private sample(): void {
    const { inSync, known } = this.fleet.fraction();
    this.history.push({ t: this.fleet.now, fraction: known === 0 ? 1 : inSync / known });
    if (this.history.length > HISTORY_KEPT) this.history.splice(0, this.history.length - HISTORY_KEPT);
  }

  private touch(): void {
    this.cache = undefined;
    this.events.emit("changed");
  }

  private log(level: "info" | "warn", text: string): void {
    this.events.emit("log", { t: this.fleet.now, level, text });
  }
}

function stripUndefined(o: DemoSourceOptions): Partial<DemoOptions> {
  const out: { -readonly [K in keyof DemoOptions]?: DemoOptions[K] } = {};
  if (o.nodes !== undefined) out.nodes = o.nodes;
  if (o.groupSize !== undefined) out.groupSize = o.groupSize;
  if (o.pressesPerNodePerMin !== undefined) out.pressesPerNodePerMin = o.pressesPerNodePerMin;
  if (o.seed !== undefined) out.seed = o.seed;
  if (o.realEvery !== undefined) out.realEvery = o.realEvery;
  return out;
}
