/**
 * A fleet run: the embedded broker (or an external one), the twins service, and the simulated nodes
 * sharded over worker threads, through three phases — boot, presses, settle — to a report. A FleetRun
 * can be steered while it runs (loss, presses, power cycles, cable pulls), which is what the console
 * does; `runFleet` just runs it to the end.
 */
import { EventEmitter } from "node:events";
import { monitorEventLoopDelay } from "node:perf_hooks";
import mqtt from "mqtt";
import { type Logger, pino } from "pino";
import { type RunningBroker, startBroker } from "../broker/index.js";
import type { LossSpec } from "../node/loss.js";
import { type DeviceProfile, loadProfile } from "../node/profile.js";
import { type NodeId, Prefix, topicOf } from "../protocol/index.js";
import type { NodeDetail, ShardReport, ShardResult } from "../sim/messages.js";
import { buildPairing, fleetIds, followersReach, type Pairing, readPairingFile } from "../sim/topology.js";
import { startTwins, type Twins } from "../twins/index.js";
import { Collector } from "./collector.js";
import { applyProfileOverrides, type FleetOptions } from "./options.js";
import type { Report } from "./report.js";
import { ShardPool } from "./shards.js";
import { buildReport } from "./summarize.js";

export type Phase = "boot" | "press" | "settle" | "done";

export interface Progress {
  readonly phase: Phase;
  readonly elapsedS: number;
  readonly nodes: number;
  readonly registered: number;
  readonly online: number;
  readonly presses: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly lossPct: number;
  readonly lagP99Ms: number;
}

export interface FleetRunEvents {
  progress: [Progress];
  phase: [Phase];
  log: [string];
}

/** Event-loop lag above this (p99, ms) means the host, not the fleet, set the pace. */
export const KEPT_UP_LAG_MS = 50;
/** Events are handled this long after they happen, in time order across workers (they flush every 50 ms). */
const REORDER_WINDOW_MS = 500;
/** The paper's registration requirement: the press phase waits no longer than this for stragglers. */
const REGISTRATION_LIMIT_MS = 30_000;

export class FleetRun extends EventEmitter<FleetRunEvents> {
  phase: Phase = "boot";
  lossPct: number;
  readonly startedAt = performance.now();
  readonly registeredAt = new Map<string, number>();
  readonly done: Promise<Report>;
  private readonly lag = new Map<number, { p99Ms: number; maxMs: number }>();
  private readonly mainLag = monitorEventLoopDelay({ resolution: 10 });
  private timers: NodeJS.Timeout[] = [];
  private endPresses: (() => void) | undefined;
  private stopped = false;
  private rssMB = 0;

  private constructor(
    readonly opts: FleetOptions,
    readonly profile: DeviceProfile,
    readonly ids: readonly NodeId[],
    readonly pairing: Pairing,
    readonly collector: Collector,
    readonly twins: Twins,
    private readonly pool: ShardPool,
    private readonly broker: RunningBroker | undefined,
    readonly brokerUrl: string,
  ) {
    super();
    this.lossPct = opts.lossPct;
    this.mainLag.enable();
    this.done = this.lifecycle();
  }

  /** Sets everything up and starts the nodes; the returned run is under way. */
  static async start(opts: FleetOptions, logger: Logger = pino({ level: "silent" })): Promise<FleetRun> {
    const loaded = loadProfile(opts.profile);
    const profile = opts.profileOverrides ? applyProfileOverrides(loaded, opts.profileOverrides) : loaded;
    const ids = fleetIds(opts.nodes);
    const pairing =
      typeof opts.topology === "string"
        ? buildPairing(ids, {
            kind: opts.topology,
            groupSize: opts.groupSize,
            follows: opts.follows,
            seed: opts.seed,
          })
        : readPairingFile(opts.topology.file, ids);
    const prefix = Prefix(opts.prefix);
    const broker = opts.broker ? undefined : await startBroker({ host: "127.0.0.1", port: 0, logger });
    const url = opts.broker ?? (broker as RunningBroker).url;
    const { hostname, port } = new URL(url);
    if (!url.startsWith("mqtt://") && !url.startsWith("tcp://")) {
      await broker?.close();
      throw new Error(
        `--broker must be mqtt://host:port for simulated nodes (they speak plain TCP like a W5100)`,
      );
    }
    let twins: Twins | undefined;
    try {
      if (opts.broker) await clearRetained(url, prefix, ids);
      twins = await startTwins({ url, prefix, logger, clock: () => performance.now() });
      for (const [f, sources] of pairing) for (const s of sources) await twins.pair(f, s);
    } catch (e) {
      await twins?.close();
      await broker?.close();
      throw e;
    }
    const collector = new Collector(followersReach(pairing));
    let run: FleetRun | undefined;
    const pool = new ShardPool(opts.workers, (r) => run?.onShard(r));
    run = new FleetRun(opts, profile, ids, pairing, collector, twins, pool, broker, url);
    run.launch(hostname, Number(port || 1883));
    return run;
  }

  /** The boot spread: nodes power on one after another over this many ms, as a lab would plug them in. */
  get bootSpreadMs(): number {
    return Math.min(20_000, this.opts.nodes * 5);
  }

  setLoss(pct: number): void {
    this.lossPct = pct;
    this.pool.broadcast({ type: "set-loss", loss: this.lossSpec(pct) });
  }

  press(id: string): boolean {
    return this.pool.send(id, { type: "press", id });
  }

  powerCycle(id: string, offMs = 2000): boolean {
    return this.pool.send(id, { type: "power-cycle", id, offMs });
  }

  cable(id: string, pulled: boolean): boolean {
    return this.pool.send(id, { type: "cable", id, pulled });
  }

  detail(id: string): Promise<NodeDetail | undefined> {
    return this.pool.detail(id);
  }

  /** Ends the press phase now: the run settles and reports. */
  stop(): void {
    this.stopped = true;
    this.endPresses?.();
  }

  progress(): Progress {
    const c = this.collector.tracker.counts();
    const lat = this.collector.tracker.latency;
    return {
      phase: this.phase,
      elapsedS: (performance.now() - this.startedAt) / 1000,
      nodes: this.ids.length,
      registered: this.registeredAt.size,
      online: this.collector.online.size,
      presses: c.presses,
      deliveries: c.deliveries,
      lost: c.lost,
      p50Ms: lat.percentile(50),
      p99Ms: lat.percentile(99),
      lossPct: this.lossPct,
      lagP99Ms: this.worstLag().p99Ms,
    };
  }

  private launch(host: string, port: number): void {
    const { opts } = this;
    const t0 = performance.now();
    const shards = Math.min(Math.max(1, opts.workers), this.ids.length);
    const spread = this.bootSpreadMs / this.ids.length;
    for (let s = 0; s < shards; s++) {
      // Shard s holds every shards-th node from s on, so each node's boot slot follows from its index.
      const ids = this.ids.filter((_, i) => i % shards === s);
      this.pool.start({
        shard: s,
        ids,
        bootAt: ids.map((_, k) => t0 + (s + k * shards) * spread),
        brokerHost: host,
        brokerPort: port,
        prefix: opts.prefix,
        profile: this.profile,
        seed: opts.seed,
        loss: this.lossSpec(opts.lossPct),
        ...(opts.ratePerNodePerMin > 0 ? { pressRatePerSec: opts.ratePerNodePerMin / 60 } : {}),
        timeOrigin: performance.timeOrigin,
      });
    }
    this.watchTwins();
    this.timers.push(
      setInterval(() => {
        const now = performance.now();
        this.collector.drain(now - REORDER_WINDOW_MS);
        this.collector.tracker.sweep(now - REORDER_WINDOW_MS);
      }, 100),
    );
    this.timers.push(setInterval(() => this.emit("progress", this.progress()), opts.progressEveryS * 1000));
  }

  private async lifecycle(): Promise<Report> {
    try {
      // Presses start once every node has registered (or when the paper's 30 s limit has passed for
      // the last one to boot), so the press phase measures a fleet that is up, not its start-up.
      await this.allRegistered(this.startedAt + this.bootSpreadMs + REGISTRATION_LIMIT_MS);
      const pressFrom = performance.now() + 200;
      const pressUntil = pressFrom + (this.opts.durationS - (this.opts.pressesEndEarlyS ?? 0)) * 1000;
      this.pool.broadcast({ type: "start-presses", from: pressFrom, until: pressUntil });
      this.setPhase("press");
      await this.until(pressFrom + this.opts.durationS * 1000, true);
      this.rssMB = process.memoryUsage().rss / 2 ** 20;
      this.setPhase("settle");
      this.pool.broadcast({ type: "stop-presses" });
      if (this.lossPct !== 0) this.setLoss(0);
      await sleep(this.opts.settleS * 1000);
      const results = await this.pool.finish();
      const report = this.report(results);
      this.setPhase("done");
      return report;
    } finally {
      await this.close();
    }
  }

  /** Resolves when every node has registered, or at `deadline`, or on stop(). */
  private allRegistered(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        if (this.registeredAt.size >= this.ids.length || performance.now() >= deadline) done();
      }, 100);
      const done = () => {
        clearInterval(poll);
        resolve();
      };
      this.endPresses = done;
    });
  }

  /** Waits until `at`, or until stop() when `stoppable`. */
  private until(at: number, stoppable: boolean): Promise<void> {
    return new Promise((resolve) => {
      if (stoppable && this.stopped) {
        resolve();
        return;
      }
      const t = setTimeout(resolve, Math.max(0, at - performance.now()));
      if (stoppable) {
        this.endPresses = () => {
          clearTimeout(t);
          resolve();
        };
      }
    });
  }

  private setPhase(p: Phase): void {
    this.phase = p;
    this.emit("phase", p);
    this.emit("progress", this.progress());
  }

  private onShard(r: ShardReport): void {
    switch (r.type) {
      case "events":
        this.collector.push(r.events);
        break;
      case "lag":
        this.lag.set(r.shard, { p99Ms: r.p99Ms, maxMs: r.maxMs });
        break;
      case "error":
        this.emit("log", `shard ${r.shard}: ${r.message}`);
        break;
      case "detail":
        break;
    }
  }

  private watchTwins(): void {
    const check = (id: string) => {
      if (this.registeredAt.has(id)) return;
      const t = this.twins.get(id);
      if (t?.kind !== undefined && t.reported !== undefined && t.presence === "online") {
        this.registeredAt.set(id, performance.now());
      }
    };
    this.twins.on("twin-registered", (t) => check(t.id));
    this.twins.on("twin-updated", (t) => check(t.id));
  }

  private worstLag(): { p99Ms: number; maxMs: number } {
    const w = this.workerLag();
    const m = this.mainLagMs();
    return { p99Ms: Math.max(w.p99Ms, m.p99Ms), maxMs: Math.max(w.maxMs, m.maxMs) };
  }

  /** The worst worker thread's lag: the simulated nodes' own clock. */
  private workerLag(): { p99Ms: number; maxMs: number } {
    let p99Ms = 0;
    let maxMs = 0;
    for (const l of this.lag.values()) {
      p99Ms = Math.max(p99Ms, l.p99Ms);
      maxMs = Math.max(maxMs, l.maxMs);
    }
    return { p99Ms, maxMs };
  }

  /** The main thread's lag: the broker, the twins service and (in a terminal) the console. */
  private mainLagMs(): { p99Ms: number; maxMs: number } {
    return { p99Ms: this.mainLag.percentile(99) / 1e6, maxMs: this.mainLag.max / 1e6 };
  }

  private lossSpec(pct: number): LossSpec {
    const ge = this.opts.gilbertElliott;
    if (ge) return { kind: "gilbert-elliott", ...ge, lossGood: pct / 100 };
    return pct > 0 ? { kind: "bernoulli", p: pct / 100 } : { kind: "none" };
  }

  private report(results: ShardResult[]): Report {
    this.collector.drain();
    for (const r of results) this.lag.set(r.shard, { p99Ms: r.lagP99Ms, maxMs: r.lagMaxMs });
    return buildReport({
      opts: this.opts,
      profile: this.profile.name,
      ids: this.ids,
      pairing: this.pairing,
      collector: this.collector,
      registeredAt: this.registeredAt,
      results,
      lag: { worker: this.workerLag(), main: this.mainLagMs() },
      keptUpLagMs: KEPT_UP_LAG_MS,
      rssMB: this.rssMB,
      wallS: (performance.now() - this.startedAt) / 1000,
    });
  }

  private async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.mainLag.disable();
    await this.pool.destroy().catch(() => {});
    await this.twins.close().catch(() => {});
    await this.broker?.close().catch(() => {});
  }
}

export async function runFleet(opts: FleetOptions, logger?: Logger): Promise<Report> {
  const run = await FleetRun.start(opts, logger);
  return run.done;
}

/** Empties the retained state of a fleet's ids on an external broker, so a run starts fresh. */
async function clearRetained(url: string, prefix: Prefix, ids: readonly NodeId[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0, connectTimeout: 10_000 });
  try {
    for (const id of ids) {
      for (const kind of ["report", "config", "status"] as const) {
        await client.publishAsync(topicOf(prefix, kind, id), "", { retain: true, qos: 1 });
      }
    }
  } finally {
    await client.endAsync();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
