/**
 * A simulated run as a ConsoleSource: the twins service's view of the fleet (nodes, convergence,
 * set / pair / unpair / query), plus what only the simulator can do — change the loss, press a
 * button, power-cycle a node, pull its cable, restart the broker, cut every node's power — and the
 * true sync latency from the run's checker. Node detail adds the modeled CPU, RAM and link counters,
 * fetched from the node's worker on focus. The run's faults (scheduled or from the keys) are kept as
 * they start and end, for the header's indicator; the run's own log lines announce them. Quitting
 * stops the presses so a view can stay open through the settle, with its countdown. On virtual time
 * the view also sets the run's pace: paused, or so many virtual seconds per wall second.
 */

import type { FaultRecord } from "../fleet/faults/runner.js";
import type { FleetRun, RunPhase } from "../fleet/run.js";
import { settleLine } from "../fleet/settle.js";
import { every, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { SimNodeDetail } from "../sim/messages.js";
import type { MinutePoint } from "../twins/index.js";
import { ConsoleEmitter, EARLY_LOG_LINES } from "./emitter.js";
import {
  type Capabilities,
  type CommandDeferred,
  CommandRefused,
  type ConsoleEvents,
  type ConsoleFault,
  type ConsoleNode,
  type ConsolePace,
  type ConsoleSource,
  type ConvergenceSnapshot,
  type LatencySnapshot,
  type Listener,
  type NodeDetail,
} from "./source.js";
import { TwinsSource } from "./twins-source.js";

const DETAIL_REFRESH_MS = 1000;

export class SimSource implements ConsoleSource {
  readonly title: string;
  readonly capabilities: Capabilities;
  private static readonly ACTIONS: Capabilities = {
    setLoss: true,
    press: true,
    set: true,
    pair: true,
    unpair: true,
    powerCycle: true,
    pullCable: true,
    query: true,
    // With someone else's broker (--broker URL) the restart fails, and the event log says why.
    restartBroker: true,
    powerOutage: true,
    partition: true,
  };
  private readonly twins: TwinsSource;
  private focused: NodeId | undefined;
  private simDetail: SimNodeDetail | undefined;
  private readonly pulled = new Set<string>();
  private readonly refresh: Timer;
  // What the run's twins service was told as it opened (its view's early lines, relayed as this
  // source is made) is kept for the console's or the page's log, which listens after it.
  private readonly events = new ConsoleEmitter(EARLY_LOG_LINES);
  /** Faults in progress by start record; `inProgress` is rebuilt only when one starts or ends. */
  private readonly active = new Map<string, ConsoleFault>();
  private inProgress: readonly ConsoleFault[] = [];
  /** When the run first found a node whose session another client takes over. */
  private clashSince: number | undefined;
  private readonly unlisten: () => void;

  constructor(private readonly run: FleetRun) {
    const o = run.opts;
    // A virtual run's clock can be paused and sped up or slowed down; a real one goes as it goes.
    this.capabilities = { ...SimSource.ACTIONS, pace: run.virtual !== undefined };
    // A run that joined a twins service already on the broker only watches through its own, which
    // sends no commands: set, pair, unpair and query failed each time with `a passive twins service
    // sends no commands` (the service the run joined takes them).
    if (run.joined !== undefined)
      this.capabilities = { ...this.capabilities, set: false, pair: false, unpair: false, query: false };
    this.title = `sim ${o.nodes} ${run.profile.name} nodes, ${typeof o.topology === "string" ? o.topology : "pairing file"}, seed ${o.seed}${o.lossMode === "kernel" ? ", loss mode kernel" : ""}`;
    // Latency comes from the run's checker: the twins' view need not time deliveries.
    this.twins = new TwinsSource(run.twins, this.title, run.sched, run.startedAt, false);
    this.twins.on("changed", () => this.events.emit("changed"));
    this.twins.on("log", (line) => this.events.emit("log", line));
    this.twins.on("node", (id) => this.events.emit("node", id));
    const onLog = (text: string, level: "info" | "error") => this.log(text, level);
    const onPhase = (p: RunPhase) =>
      this.log(`phase: ${p}${p === "settle" ? " (presses stopped, loss 0 %)" : ""}`);
    const onStart = (f: FaultRecord) => {
      this.active.set(faultKey(f), { what: describeFault(f), since: f.startMs });
      this.faultsChanged();
    };
    const onEnd = (f: FaultRecord) => {
      if (this.active.delete(faultKey(f))) this.faultsChanged();
    };
    run.on("log", onLog).on("phase", onPhase).on("fault-start", onStart).on("fault-end", onEnd);
    this.unlisten = () => {
      run.off("log", onLog).off("phase", onPhase).off("fault-start", onStart).off("fault-end", onEnd);
    };
    this.refresh = every(run.sched, DETAIL_REFRESH_MS, () => {
      this.fetchDetail();
      // The view shows how far virtual time has got, even while nothing else changes.
      if (run.virtual) this.events.emit("changed");
    });
  }

  close(): void {
    this.unlisten();
    this.refresh.cancel();
    this.twins.close();
  }

  /** The run's clock. */
  now(): number {
    return this.run.sched.now();
  }

  nodes(): readonly ConsoleNode[] {
    return this.twins.nodes();
  }

  settle(): void {
    this.twins.settle();
  }

  node(id: NodeId): ConsoleNode | undefined {
    return this.twins.node(id);
  }

  detail(id: NodeId): NodeDetail | undefined {
    const d = this.twins.detail(id);
    if (!d) return undefined;
    const s = this.simDetail?.id === id ? this.simDetail : undefined;
    const registered = this.run.registeredAt.get(id);
    return {
      ...d,
      ...(s ? { cpuPct: s.cpuPct, ramBytes: s.ramBytes, link: s.link } : {}),
      cablePulled: this.pulled.has(id),
      ...(registered !== undefined ? { registeredAt: registered - this.run.startedAt } : {}),
    };
  }

  focus(id: NodeId | undefined): void {
    this.twins.focus(id);
    if (id !== this.focused) {
      this.focused = id;
      this.simDetail = undefined;
      this.fetchDetail();
    }
  }

  convergence(): ConvergenceSnapshot {
    return this.twins.convergence();
  }

  /** The run's twins service's long tier, a minute at a time (twins/minute-tier.ts). */
  readonly minutes = (): readonly MinutePoint[] => this.twins.minutes();

  latency(): LatencySnapshot {
    const t = this.run.collector.checker;
    return {
      count: t.latency.count,
      p50Ms: t.latency.percentile(50),
      p99Ms: t.latency.percentile(99),
      bucketMs: t.bars.width,
      buckets: t.bars.counts,
      overflow: t.bars.overflow,
    };
  }

  lossPct(): number {
    return this.run.lossPct;
  }

  /** The run's twins service away from its broker (a restart, someone else's broker lost): for `/healthz`. */
  health(): string | undefined {
    return this.twins.health();
  }

  /** The run's twins service's convergence history unwritten (`--twins-data`): for `/healthz`'s 200. */
  degraded(): readonly string[] {
    return this.twins.degraded();
  }

  /**
   * The run's faults, then the twins' own (a lost broker connection the run did not cause, nodes
   * flapping), and the nodes whose sessions another client with the same id keeps taking over.
   */
  faults(): readonly ConsoleFault[] {
    const twins = this.twins.faults();
    const clashes = this.run.clashes.count;
    if (clashes > 0) this.clashSince ??= this.now();
    const ids =
      this.clashSince === undefined ? [] : [{ what: `ids in use: ${clashes} nodes`, since: this.clashSince }];
    return twins.length === 0 && ids.length === 0 ? this.inProgress : [...this.inProgress, ...twins, ...ids];
  }

  async setLoss(pct: number): Promise<void> {
    this.run.setLoss(pct);
  }

  async press(id: NodeId): Promise<void> {
    if (!this.run.press(id)) throw new CommandRefused(`${id} is not a simulated node of this run`);
    this.log(`${id} pressed`);
  }

  async set(id: NodeId, on: boolean): Promise<undefined> {
    await this.twins.set(id, on);
    return undefined;
  }

  pair(follower: NodeId, source: NodeId): Promise<CommandDeferred | undefined> {
    return this.twins.pair(follower, source);
  }

  unpair(follower: NodeId, source: NodeId): Promise<CommandDeferred | undefined> {
    return this.twins.unpair(follower, source);
  }

  async powerCycle(id: NodeId): Promise<void> {
    if (!this.run.powerCycle(id)) throw new CommandRefused(`${id} is not a simulated node of this run`);
    this.log(`${id} power-cycled (2 s off)`);
  }

  async pullCable(id: NodeId, pulled: boolean): Promise<void> {
    if (!this.run.cable(id, pulled)) throw new CommandRefused(`${id} is not a simulated node of this run`);
    if (pulled) this.pulled.add(id);
    else this.pulled.delete(id);
    this.log(`${id} cable ${pulled ? "pulled" : "plugged back"}`);
  }

  query(): Promise<void> {
    return this.twins.query();
  }

  /** Starts the fault; how it goes (or that it failed) comes back as the run's `fault:` log lines. */
  async restartBroker(downS: number): Promise<void> {
    this.run.injectFault({ kind: "broker-restart", atS: 0, downS });
  }

  async powerOutage(offS: number): Promise<void> {
    this.run.injectFault({ kind: "power-outage", atS: 0, offS, nodes: "all" });
  }

  async partition(fraction: number, forS: number): Promise<void> {
    if (!(fraction > 0 && fraction <= 1))
      throw new RangeError(`partition: fraction ${fraction} is not in (0, 1]`);
    const pct = Math.round(fraction * 1000) / 10;
    this.run.injectFault({ kind: "partition", atS: 0, forS, nodes: `${Math.max(0.1, pct)}%` });
  }

  pace(): ConsolePace {
    return this.run.virtual?.pace ?? { speed: 1, paused: false };
  }

  setPace(pace: ConsolePace): void {
    const clock = this.run.virtual;
    if (!clock) throw new Error("a run on real time has no pace to set");
    clock.setPace(pace);
    this.events.emit("changed");
    this.log(pace.paused ? "virtual time paused" : `virtual time at ${paceText(pace)}`);
  }

  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** The first quit stops the presses; the console stays open while the run settles. */
  quit(): boolean {
    if (this.run.phase === "done") return false;
    this.run.stop();
    return true;
  }

  ending(): string | undefined {
    const s = this.run.settleStatus();
    if (s) return settleLine(s, this.now());
    return this.run.phase === "done" ? "writing the report" : "stopping the presses";
  }

  private fetchDetail(): void {
    const id = this.focused;
    if (id === undefined) return;
    void this.run.detail(id).then((d) => {
      if (this.focused !== id) return;
      this.simDetail = d;
      this.events.emit("changed");
    });
  }

  /** Through the twins' view: a burst's summary under way is written first (view/log-bursts.ts). */
  private log(text: string, level: "info" | "error" = "info"): void {
    this.twins.log(level, text);
  }

  private faultsChanged(): void {
    this.inProgress = [...this.active.values()];
    this.events.emit("changed");
  }
}

/** `×10 real time`, `as fast as it goes`. */
export function paceText(p: ConsolePace): string {
  return p.speed === "max" ? "as fast as it goes" : `×${p.speed} real time`;
}

/** A fault's start and end records share its kind, index and start. */
function faultKey(f: FaultRecord): string {
  return `${f.kind}#${f.index}@${f.startMs}`;
}

/** e.g. `broker-restart`, `power-outage 24 nodes`, `loss 25%`. */
function describeFault(f: FaultRecord): string {
  const pct = f.pct === undefined ? "" : ` ${f.pct}%`;
  const nodes = f.nodes === undefined ? "" : ` ${f.nodes.length} node${f.nodes.length === 1 ? "" : "s"}`;
  return `${f.kind}${pct}${nodes}`;
}
