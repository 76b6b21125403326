/**
 * A fleet run: the broker (the run's own, in this process or a child, or someone else's), the twins service,
 * and the simulated nodes sharded over worker threads, through three phases — boot, presses, settle — to a
 * report. Faults from the schedule are injected in the presses, measured by the checker; the settle lasts
 * until they have ended and the fleet has recovered (or a bound has passed). It can be steered while it runs
 * (loss, presses, power cycles, cable pulls, faults). stop() ends the presses (the run still settles); cut()
 * the settle too, for a report marked cut short. `clock: "virtual"`: on virtual time (fleet/virtual.ts).
 */
import { EventEmitter } from "node:events";
import { type Logger, pino } from "pino";
import type { DeviceProfile } from "../node/profile.js";
import { processRssMB } from "../node/rss.js";
import { every, RealScheduler, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { ShardHost, ShardResult, SimNodeDetail } from "../sim/messages.js";
import type { Pairing } from "../sim/topology.js";
import type { TwinsServiceInfo } from "../twins/index.js";
import { brokerSocket, type NodeBrokerAt } from "./broker-address.js";
import { BrokerOutages } from "./broker-outages.js";
import { watchClosedAtOnce } from "./closed-at-once-live.js";
import { Collector, REORDER_WINDOW_MS } from "./collector.js";
import type { FaultRunner } from "./faults/runner.js";
import type { FaultEntry } from "./faults/schedule.js";
import { fleetFaultRunner } from "./faults/targets.js";
import type { KernelNet } from "./kernel-loss-rules.js";
import { brokerLag, KEPT_UP_LAG_MS, LagMonitor, lagOf } from "./lag.js";
import { type LossCause, LossLog } from "./loss-log.js";
import { type FleetOptions, lossSpecOf, type ResolvedFleetOptions, resolveFleetOptions } from "./options.js";
import { type FleetRunEvents, type Progress, type RunPhase, runProgress } from "./progress.js";
import {
  bootSpreadMs,
  PRESS_LEAD_MS,
  REGISTRATION_LIMIT_MS,
  Registrations,
  type TwinsView,
  viewBeforeNodesStop,
} from "./registrations.js";
import type { Report } from "./report.js";
import { endRun, withClaim } from "./run-end.js";
import { type SessionClashes, watchClashes } from "./session-clashes.js";
import { fleetQuiet, RECOVERY_WAIT_MAX_MS, type SettleStatus, SettleWait } from "./settle.js";
import { type FleetParts, prepareFleet } from "./setup.js";
import { linkOf, routeShardReports, ShardPool, shardCommon } from "./shards.js";
import type { StartControl } from "./start-control.js";
import { buildReport } from "./summarize.js";
import { runDeaths, type ThreadDeaths } from "./thread-death.js";
import type { TwinsHost } from "./twins-host.js";
import { startVirtual, type VirtualClock } from "./virtual.js";
import { StoppableWaits } from "./waits.js";
import { WindowCloser } from "./window-close.js";

export { type FleetRunEvents, KEPT_UP_LAG_MS, type Progress, type RunPhase };
export class FleetRun extends EventEmitter<FleetRunEvents> {
  phase: RunPhase = "boot";
  lossPct: number;
  /** When the run started, on its clock. */
  readonly startedAt: number;
  /** When each fleet node first registered with the twins, on the run's clock. */
  readonly registeredAt: ReadonlyMap<string, number>;
  readonly done: Promise<Report>;
  readonly profile: DeviceProfile;
  readonly ids: readonly NodeId[];
  readonly pairing: Pairing;
  /** The twins service already on the broker that the run joined instead of starting its own. */
  readonly joined: TwinsServiceInfo | undefined;
  readonly brokerUrl: string;
  /** Where the nodes connect, a host name's addresses looked up at the start (fleet/broker-address.ts); none on virtual time. */
  readonly nodesAt: NodeBrokerAt | undefined;
  /** Real-loss mode: the namespace and addresses whose packets the kernel drops; undefined otherwise. */
  readonly kernelNet: KernelNet | undefined;
  /** When the presses started (the origin of fault times), once they have. */
  pressStartMs = Number.NaN;
  readonly collector: Collector;
  private readonly faults: FaultRunner;
  /** The broker's outages as the run's twins service saw them, and the run's own stalls. */
  private readonly outages: BrokerOutages;
  readonly clashes: SessionClashes;
  /** The threads' event-loop lag; none on virtual time, where the host cannot be late. */
  private readonly lag: LagMonitor | undefined;
  private timers: Timer[] = [];
  private readonly waits: StoppableWaits;
  private stopped = false;
  private cut_ = false;
  private settleWait: SettleWait | undefined;
  private cutBefore: Report["cutBefore"]; // cut short before the presses, or the settle, began
  private readonly lossLog: LossLog;
  private rssMB: number | undefined;
  private brokerRssMaxMB: number | undefined;
  /** A thread of the run that died (out of memory, an uncaught error): the run ends there. */
  readonly deaths: ThreadDeaths;

  private constructor(
    readonly opts: ResolvedFleetOptions,
    private readonly parts: FleetParts,
    private readonly pool: ShardHost,
    /** The run's one clock: every time of the run, its waits and timers, and its twins service's. */
    readonly sched: Scheduler,
    /** On virtual time, the clock that drives it (its pace is the console's speed control). */
    readonly virtual: VirtualClock | undefined,
    private readonly ending: StartControl["ending"],
  ) {
    super();
    this.profile = parts.profile;
    this.ids = parts.ids;
    this.pairing = parts.pairing;
    this.joined = parts.joined;
    this.brokerUrl = parts.broker.url;
    this.nodesAt = parts.nodesAt;
    this.kernelNet = parts.kernelLoss?.net;
    this.startedAt = sched.now();
    this.collector = Collector.following(parts.pairing);
    this.waits = new StoppableWaits(sched);
    this.lossPct = opts.lossPct;
    this.lossLog = new LossLog(opts.lossPct);
    const heapWarn = (line: string) => this.emit("log", line, "error"); // a heap near its limit
    this.lag = virtual ? undefined : new LagMonitor(brokerLag(parts.broker), undefined, heapWarn);
    this.outages = BrokerOutages.onClock([parts.twins, parts.probe?.watch], sched, parts.twins);
    this.registeredAt = new Registrations(this.ids, parts.source, this.collector.timeline, () =>
      sched.now(),
    ).first;
    this.faults = fleetFaultRunner(
      sched,
      {
        ids: this.ids,
        seed: opts.seed,
        prefix: opts.prefix,
        broker: parts.broker,
        pool,
        twins: parts.twins,
        lossPct: () => this.lossPct,
        setLoss: (pct) => this.setLoss(pct, "fault"),
      },
      this,
    );
    this.clashes = watchClashes(this.collector, opts.prefix, this.faults, this.outages, this);
    this.collector.onPairingLine = (line) => this.emit("log", line, "info");
    this.deaths = runDeaths(this, parts.broker, () => (sched.now() - this.startedAt) / 1000);
    this.done = this.lifecycle()
      .finally(() => this.close())
      .then(({ report, endMs }) => withClaim(report, this.parts, this.pressStartMs, endMs));
    watchClosedAtOnce(this.collector, sched, this.faults, this.outages, this);
  }

  /**
   * Validates `options` (FleetOptionsError naming the field, before anything starts), sets everything
   * up and starts the nodes; the returned run is under way. `scheduler` is the run's clock and timers,
   * handed on to everything it starts (a dependency like `logger`, not a setting: options are data);
   * the worker threads run their own RealScheduler on its origin (`wallNow() - now()`), so it must run
   * on real time. On virtual time the run makes its own clock from `scheduler`'s now, `done` settling
   * once the driver has run it to the end. `start`: its stop and its steps (fleet/start-control.ts).
   */
  static async start(
    options: FleetOptions = {},
    logger: Logger = pino({ level: "silent" }),
    scheduler: Scheduler = new RealScheduler(),
    start: StartControl = {},
  ): Promise<FleetRun> {
    const opts = resolveFleetOptions(options);
    let run: FleetRun | undefined;
    const onShard = routeShardReports({
      events: (events) => run?.collector.push(events),
      lag: { worker: (shard, p99, max, recent, heap) => run?.lag?.worker(shard, p99, max, recent, heap) },
      error: (text) => run?.emit("log", text, "error"),
    });
    if (opts.clock === "virtual") {
      const { parts, pool, clock } = await startVirtual(opts, scheduler, logger, onShard);
      run = new FleetRun(opts, parts, pool, clock.sched, clock, start.ending);
      run.launch({ host: "memory", port: 0 });
      // The report once the driver has run the clock to its end; a failure of either is the run's.
      const done = Promise.all([run.done, clock.drive(run.done)]).then(([r]) => r);
      (run as { done: Promise<Report> }).done = done;
      return run;
    }
    const parts = await prepareFleet(opts, logger, scheduler, start);
    const died = (shard: number, e: Error, nodes: number) => run?.deaths.died(`worker-${shard}`, e, nodes);
    const pool = new ShardPool(opts.workers, onShard, linkOf(parts.broker), died);
    run = new FleetRun(opts, parts, pool, scheduler, undefined, start.ending);
    run.collector.judgeOutside(parts.twins, parts.ids, () => scheduler.now());
    run.launch(parts.nodesAt ?? brokerSocket(parts.broker.url));
    return run;
  }

  /** Each thread's lag p99 now, ms (fleet/lag.ts recentByThread); none on virtual time. */
  readonly lagRecentP99ByThread = (): Record<string, number> => this.lag?.recentByThread() ?? {};
  /** The broker's clients and message counts, when the run's broker is its own and embedded. */
  readonly brokerStats = () => this.parts.broker.stats?.();
  /** The run's twins service; a virtual run without twins (`twins: false`) has none. */
  get twins(): TwinsHost {
    if (this.parts.twins) return this.parts.twins;
    throw new Error("this virtual-time run has no twins service (twins: false)");
  }

  setLoss(pct: number, by: LossCause = "console"): void {
    // Real-loss mode: the kernel drops the packets (model loss off); a loss nftables cannot draw throws here.
    const kernel = this.parts.kernelLoss?.setLoss(pct);
    if (pct !== this.lossPct) {
      const now = this.sched.now();
      const origin = Number.isNaN(this.pressStartMs) ? now : this.pressStartMs;
      this.lossLog.record(now - origin, pct, by);
    }
    this.lossPct = pct;
    this.pool.broadcast({ type: "set-loss", loss: lossSpecOf(this.opts, pct) });
    kernel?.catch((e: Error) => this.emit("log", `kernel loss ${pct}%: ${e.message}`, "error"));
  }

  press(id: NodeId): boolean {
    return this.pool.send(id, { type: "press", id });
  }

  powerCycle(id: NodeId, offMs = 2000): boolean {
    return this.pool.send(id, { type: "power-cycle", id, offMs });
  }

  cable(id: NodeId, pulled: boolean): boolean {
    if (!this.pool.has(id)) return false;
    this.pool.sendMany([id], (ids) => ({ type: "cable", ids, pulled }));
    return true;
  }

  /** Injects a fault now (the console's keys); it ends after its own duration. */
  injectFault(entry: FaultEntry): void {
    this.faults.inject(entry);
  }

  detail(id: NodeId): Promise<SimNodeDetail | undefined> {
    return this.pool.detail(id);
  }

  /** Ends the press phase now: the run settles and reports. */
  stop(): void {
    this.stopped = true;
    this.waits.stop();
  }

  /** stop() has been asked for (the presses end, or have ended, early). */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Ends the run at once, settle included: the report has what is known and is marked cut short. */
  cut(): void {
    this.cut_ = true;
    this.stop();
    this.settleWait?.cut();
    this.parts.probe?.endAskHeld(); // its end question to a joined twins service, if it asks now
  }

  get cutShort(): boolean {
    return this.cut_;
  }

  /** During the settle: until when, and what it waits for; undefined in any other phase. */
  settleStatus(): SettleStatus | undefined {
    const w = this.settleWait;
    if (this.phase !== "settle" || w === undefined) return undefined;
    const back = Math.min(this.collector.synced.size, this.registeredAt.size);
    const c = this.collector.checker.counts();
    return w.status(this.stopped, {
      inFlight: c.pending,
      overdue: c.lost - c.late - c.lostForGood,
      faults: this.faults.inProgress,
      notBack: this.ids.length - back,
    });
  }

  progress(): Progress {
    const { phase, ids, registeredAt, collector, lossPct, lag, faults, outages, clashes, virtual } = this;
    const elapsedS = (this.sched.now() - this.startedAt) / 1000;
    const parts = { phase, elapsedS, ids, registeredAt, collector, lossPct, lag, faults, outages, clashes };
    return runProgress({ ...parts, settle: this.settleStatus(), virtual });
  }

  private launch(at: NodeBrokerAt): void {
    const { opts } = this;
    const shards = Math.min(Math.max(1, opts.workers), this.ids.length);
    const timeOrigin = this.sched.wallNow() - this.sched.now();
    const common = shardCommon(opts, this.profile, { ...at, timeOrigin });
    this.pool.launch(this.ids, shards, this.sched.now(), bootSpreadMs(this.opts.nodes), common);
    // The fault analysis' records are kept from a fault's or an outage's start on, until its window closes.
    const closer = new WindowCloser(this.collector, this.ids, this.faults, this.outages);
    this.timers.push(
      every(this.sched, 100, () => {
        closer.advance(this.sched.now(), REORDER_WINDOW_MS);
        const rss = this.parts.broker.rssMB();
        if (rss !== undefined) this.brokerRssMaxMB = Math.max(this.brokerRssMaxMB ?? 0, rss);
      }),
    );
    this.timers.push(
      every(this.sched, opts.progressEveryS * 1000, () => this.emit("progress", this.progress())),
    );
  }

  /** The run through its phases to its report but its claim, read once its own clear is done (run-end.ts). */
  private async lifecycle(): Promise<{ report: Report; endMs: number }> {
    // Presses start once the fleet is up: all registered, or the paper's 30 s limit for the last to boot.
    await this.waits.poll(
      () => this.registeredAt.size >= this.ids.length,
      this.startedAt + bootSpreadMs(this.opts.nodes) + REGISTRATION_LIMIT_MS,
    );
    this.parts.probe?.askHeldEarly(this.ids, this.registeredAt); // does a joined service hold them?
    const pressFrom = this.sched.now() + PRESS_LEAD_MS;
    this.pressStartMs = pressFrom;
    const pressUntil = pressFrom + (this.opts.durationS - this.opts.pressesEndEarlyS) * 1000;
    // Stopped in the boot, no press: node threads late to read a start took those past due (67 once).
    if (this.cut_) this.cutBefore = "presses";
    if (!this.stopped) {
      this.pool.broadcast({ type: "start-presses", from: pressFrom, until: pressUntil });
      this.faults.schedule(this.parts.faults, pressFrom);
      this.setPhase("press");
      await this.waits.until(pressFrom + this.opts.durationS * 1000);
    }
    if (!this.virtual) this.rssMB = processRssMB(); // two runs of a seed would differ
    const settleFrom = this.sched.now();
    const minUntil = settleFrom + this.opts.settleS * 1000;
    const faulted = this.faults.records.length + this.faults.inProgress > 0; // without, exactly --settle
    const wait = new SettleWait(minUntil, minUntil + (faulted ? RECOVERY_WAIT_MAX_MS : 0), this.sched);
    this.settleWait = wait;
    if (this.cut_) wait.cut();
    if (this.cut_)
      this.cutBefore ??= "settle"; // no settle to tell of, nor to time
    else this.setPhase("settle");
    this.pool.broadcast({ type: "stop-presses" });
    if (this.stopped) await this.faults.stop();
    if (this.lossPct !== 0) this.setLoss(0, "settle");
    const quiet = () => fleetQuiet(this.faults, this.parts.source, this.collector, this.ids.length);
    await wait.wait(
      () => this.stopped || this.faults.brokerGone || quiet(),
      () => this.emit("log", "settle: waiting for the faults to end and the fleet to recover", "info"),
    );
    await this.faults.stop();
    const endMs = this.sched.now() - REORDER_WINDOW_MS;
    const view = await viewBeforeNodesStop(this.parts, this.ids, this.collector.pairing ?? this.pairing);
    const report = this.report(await this.pool.finish(), endMs, view, settleFrom);
    this.setPhase("done");
    return { report, endMs };
  }

  private setPhase(p: RunPhase): void {
    this.phase = p;
    this.emit("phase", p);
    this.emit("progress", this.progress());
  }

  private report(results: ShardResult[], endMs: number, view: TwinsView, settleFrom: number) {
    for (const r of results) this.lag?.worker(r.shard, r.lagP99Ms, r.lagMaxMs);
    const pressStartMs = Number.isNaN(this.pressStartMs) ? this.startedAt : this.pressStartMs;
    return buildReport({
      opts: this.opts,
      profile: this.profile.name,
      ids: this.ids,
      collector: this.collector,
      registeredAt: this.registeredAt,
      results,
      lag: lagOf(this.lag),
      keptUpLagMs: KEPT_UP_LAG_MS,
      rssMB: this.rssMB,
      brokerRssMaxMB: this.brokerRssMaxMB,
      wallS: (this.sched.now() - this.startedAt) / 1000,
      settleS: this.cutBefore ? 0 : (this.sched.now() - settleFrom) / 1000,
      brokerKind: this.parts.broker.kind,
      twins: this.parts.twins === undefined ? "none" : this.parts.twins.passive ? "joined" : "own",
      faults: this.faults.records,
      outages: this.outages.list(endMs),
      stalls: this.outages.stalls(),
      ...this.clashes.reports(pressStartMs),
      joinedTwins: this.parts.probe?.joined?.report(pressStartMs),
      ownTwins: this.parts.ownBeside?.report(pressStartMs),
      twinsView: view,
      unreported: this.parts.source.unreported(this.ids),
      pressStartMs,
      endMs,
      loss: this.lossLog.report(settleFrom - pressStartMs),
      pressedS: this.stopped ? (settleFrom - pressStartMs) / 1000 : this.opts.durationS,
      cutShort: this.cut_,
      cutBefore: this.cutBefore,
      threadDied: this.deaths.first,
      kernelDrops: this.parts.kernelLoss?.drops(),
    });
  }

  private async close(): Promise<void> {
    for (const t of this.timers) t.cancel();
    this.lag?.stop();
    await this.faults.stop().catch(() => {});
    await endRun(this.parts, this.pool, this.ending);
  }
}

/** Runs a fleet to its end (FleetRun.start, then its report). */
export const runFleet = (o: FleetOptions = {}, logger?: Logger, sched?: Scheduler): Promise<Report> =>
  FleetRun.start(o, logger, sched).then((run) => run.done);
