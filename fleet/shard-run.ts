/**
 * One shard of a fleet split over processes or machines (`twinfleet sim --shard K/N`): it derives the
 * whole fleet from the options, runs only its own nodes (in worker threads) against the shared
 * broker once it has claimed their ids (fleet/fleet-claim.ts), pairs them with retained configs as
 * any control tool does, watches the whole fleet's registrations on the broker (fleet/shard-watch.ts),
 * and starts its presses once every node of every shard has registered (or the rest of the fleet has
 * stopped coming up). Its collector records every press and applied state, which the shard keeps with
 * its wall time; it measures its clock against the other shards' through the broker
 * (fleet/shard-probe.ts), tells a lost broker as a one-process run does (from its watch client's
 * connection, fleet/broker-outages.ts) and its own stalls apart from it (fleet/shard-stalls.ts), and
 * ends with a shard report (fleet/shard-report.ts, its claim's losses in it) that `twinfleet report
 * merge` joins into one fleet report. */
import { hostname } from "node:os";
import { readOpenFiles } from "../node/open-files.js";
import { processRssMB } from "../node/rss.js";
import { datedZero, every, RealScheduler, type Scheduler, type Timer } from "../node/scheduler.js";
import { stallWatchOf } from "../node/stall-watch.js";
import { VERSION } from "../node/version.js";
import { formatStamp, type NodeId, Prefix } from "../protocol/index.js";
import { followersReach } from "../sim/topology.js";
import { displayUrl } from "../twins/index.js";
import { type ClaimReport, claimField, claimReport } from "./claim-report.js";
import { watchClosedAtOnce } from "./closed-at-once-live.js";
import { Collector, REORDER_WINDOW_MS } from "./collector.js";
import { cpuRounded } from "./cpu-figures.js";
import { LagMonitor } from "./lag.js";
import { checkOpenFiles } from "./open-files.js";
import { type FleetOptions, type ResolvedFleetOptions, resolveFleetOptions } from "./options.js";
import { REGISTRATION_LIMIT_MS, Registrations } from "./registrations.js";
import { watchClashes } from "./session-clashes.js";
import { planFleet } from "./setup.js";
import { askShardHeld, shardHeldEarlyLine } from "./shard-held.js";
import type { ShardRunHooks } from "./shard-hooks.js";
import { movedField } from "./shard-moved.js";
import { fleetFingerprint, type ShardSpec, ShardSpecError, shardSlice } from "./shard-plan.js";
import { PressRecords, wallTimeline } from "./shard-records.js";
import { SHARD_REPORT_FORMAT, type ShardFile } from "./shard-report.js";
import { shardBrokerReports } from "./shard-stalls.js";
import { type ShardOpened, startShard } from "./shard-start.js";
import { routeShardReports, ShardPool, shardCommon } from "./shards.js";
import { fleetShape } from "./summarize.js";
import { linkTotals, registrationTimes } from "./tally.js";
import { ThreadDeaths } from "./thread-death.js";
import { StoppableWaits } from "./waits.js";
import { WindowCloser } from "./window-close.js";

/**
 * Shards may start apart (machines, pods): past its own nodes' registration limit a shard waits for
 * the rest of the fleet as long as more of it registers within REGISTRATION_LIMIT_MS, and at most
 * this long from its start.
 */
export const SHARD_START_MAX_MS = 600_000;
/** A stop not ended this long after it is said with the step of the shard's end under way. */
export const STOP_TOLD_MS = 5_000;

/** What a sharded run cannot do: the options that need the whole fleet in one process. */
export function shardOptionProblem(opts: ResolvedFleetOptions): string | undefined {
  if (opts.broker === undefined) return "--shard needs --broker mqtt://host:port: every shard meets on it";
  if (opts.clock !== "real") return "--shard runs on real time (--clock real): the shards share a broker";
  if (opts.faults.length > 0)
    return "--shard runs without --faults: a fault would hit one shard's nodes only";
  if (opts.brokerProcess || opts.brokerData !== undefined)
    return "--shard uses the --broker given; --broker-process and --broker-data start one of its own";
  if (opts.twinsData !== undefined)
    return "--shard runs no twins service (it reads registrations off the broker); --twins-data is for one of its own";
  return undefined;
}

export class ShardRun {
  private readonly waits: StoppableWaits;
  private cut = false;
  /** Aborted by stop(): ends its start (FleetStartStoppedError, nothing ran) and an early look for the twins service. */
  private readonly starting = new AbortController();
  private inStart = true; // until its nodes' configs are written: a stop ends the shard there, with no report
  private startEnded = false;
  private asking: AbortController | undefined; // its look for the twins service at its end, ended by a stop
  /** The step of its end under way (`asking the twins service …`), told when a stop does not end it. */
  private ending: string | undefined;
  private note: (line: string) => void = () => {};
  private stopTold: Timer | undefined;
  /** Its node threads, once its start is done. */
  private pool: ShardPool | undefined;

  private constructor(
    readonly opts: ResolvedFleetOptions,
    readonly spec: ShardSpec,
    readonly sched: Scheduler,
  ) {
    this.waits = new StoppableWaits(sched);
  }

  /** Checks the options and the spec (an OptionError naming the problem), then runs to the report. */
  static run(
    options: FleetOptions,
    spec: ShardSpec,
    sched: Scheduler = new RealScheduler(),
    hooks: ShardRunHooks = {},
  ): { run: ShardRun; done: Promise<ShardFile> } {
    const run = new ShardRun(ShardRun.check(options, spec), spec, sched);
    return { run, done: run.lifecycle(hooks) };
  }

  /** The options as run() takes them, or a ShardSpecError: refused before a caller starts its own. */
  static check(options: FleetOptions, spec: ShardSpec): ResolvedFleetOptions {
    const opts = resolveFleetOptions(options);
    const problem = shardOptionProblem(opts);
    if (problem !== undefined) throw new ShardSpecError(problem);
    if (spec.count > opts.nodes)
      throw new ShardSpecError(
        `--shard: ${spec.count} shards for ${opts.nodes} nodes leaves some shard without a node`,
      );
    return opts;
  }

  /**
   * Ends the presses and the settle now; the report says it was cut short. During its start
   * (fleet/shard-start.ts: its watch client's connect, its clock probe, --fresh's clearing, its
   * watch of the fleet, the wait for its ids in use to go offline, its claim, its configs' write),
   * ends it there, before its nodes start: `done` rejects with FleetStartStoppedError (its
   * reason), as a one-process run's start does; returns whether a report follows (false if it did not).
   */
  stop(reason: unknown = "stop"): boolean {
    this.cut = true;
    this.waits.stop();
    this.starting.abort(reason);
    this.asking?.abort(reason);
    if (this.inStart) this.startEnded = true;
    // A stop that a step of its end does not take: said, with the step, rather than nothing.
    const told = this.sched.now() + STOP_TOLD_MS;
    this.stopTold?.cancel();
    this.stopTold = (this.sched.atIdle ?? this.sched.at).call(this.sched, told, () => {
      if (this.ending !== undefined)
        this.note(`still ${this.ending}, ${STOP_TOLD_MS / 1000} s after the stop`);
    });
    return !this.startEnded;
  }

  private async lifecycle(hooks: ShardRunHooks): Promise<ShardFile> {
    const { opts, spec, sched } = this;
    const note = hooks.note ?? (() => {});
    this.note = note;
    const url = opts.broker as string;
    const { profile, ids, pairing } = planFleet(opts);
    const mine = shardSlice(ids, spec);
    checkOpenFiles(mine.length, opts.workers, readOpenFiles());
    const mineSet = new Set<NodeId>(mine);
    const reach = followersReach(pairing);
    const local = (s: NodeId) => (reach.get(s) ?? []).filter((f) => mineSet.has(f));
    const localReach = new Map<NodeId, NodeId[]>(mine.map((s) => [s, local(s)]));
    const began = sched.now();
    const zero = datedZero(sched); // the date its records' clock reads 0 at, and how close
    const wall = (at: number) => Math.round((at + zero.dateMs) * 1000) / 1000;
    const recorder = new PressRecords(wall);
    const collector = new Collector(localReach, undefined, recorder);
    // Its threads' heaps near their limits told before they die (fleet/heap-watch.ts).
    const lag = new LagMonitor({}, undefined, note);
    const timers: Timer[] = [];
    const prefix = Prefix(opts.prefix);
    // Its own process stopped (SIGSTOP, a paused VM): what its client then saw is its stall, not the broker's.
    const stalls = hooks.stalls ?? stallWatchOf(sched);
    const opened: ShardOpened = {};
    /** The shard's report but its claim, and its claim's section, read once the claim is cleared. */
    let file: ShardFile | undefined;
    let claimOf: (() => ClaimReport | undefined) | undefined;
    // A node thread that dies ends the shard there, its report marked (fleet/thread-death.ts).
    const deaths = new ThreadDeaths(
      () => (sched.now() - began) / 1000,
      (_, line) => {
        note(line);
        this.stop("thread died");
      },
    );
    try {
      const { signal } = this.starting; // a stop during its start ends it there (fleet/shard-start.ts)
      const { keepaliveS } = profile.mqtt;
      const context = { opts, spec, sched, zero, prefix, mine, pairing, keepaliveS, note, stalls };
      const control = { timers, signal, hooks };
      const started = await startShard({ ...context, ...control }, opened).finally(() => {
        this.inStart = false;
      });
      hooks.started?.();
      const { client, outages, probe, watch, target, at } = started;
      const clashes = watchClashes(collector, opts.prefix, { inProgress: 0 }, outages, {
        emit: (_, l) => note(l),
      });
      // Its nodes closed at once (the broker at its open-files limit): told while it happens, once.
      timers.push(
        watchClosedAtOnce(collector, sched, { inProgress: 0 }, outages, { emit: (_, l) => note(l) }),
      );
      const source = watch.source();
      const registeredAt = new Registrations(mine, source, collector.timeline, () => sched.now()).first;
      const startedAt = sched.now();
      const pool = new ShardPool(
        opts.workers,
        routeShardReports({ events: (e) => collector.push(e), lag, error: note }),
        undefined,
        (shard, e, nodes) => deaths.died(`worker-${shard}`, e, nodes),
      );
      this.pool = pool;
      const bootSpreadMs = Math.min(20_000, mine.length * 5);
      const threads = Math.min(Math.max(1, opts.workers), mine.length);
      pool.launch(
        mine,
        threads,
        startedAt,
        bootSpreadMs,
        shardCommon(opts, profile, { ...at, timeOrigin: zero.dateMs }),
      );
      // The outage analysis' records, kept from the first outage until its window closes (as in one process).
      const closer = new WindowCloser(collector, mine, { records: [], inProgress: 0 }, outages, localReach);
      timers.push(every(sched, 100, () => closer.advance(sched.now(), REORDER_WINDOW_MS)));
      // Other shards' nodes online with a state before this shard looked registered before it
      // subscribed: their register messages (not retained) are gone. Counted while online; a shard
      // started after the others' nodes had registered waited 30 s more for them, then pressed alone.
      const earlier = ids.filter((id) => {
        const e = watch.registry.get(id);
        return !mineSet.has(id) && e?.online === true && e.reported;
      });
      const earlierOnline = new Set<string>(earlier);
      const fleetRegistered = () =>
        ids.reduce(
          (n, id) =>
            n +
            (source.isRegistered(id) || (earlierOnline.has(id) && watch.registry.get(id)?.online) ? 1 : 0),
          0,
        );
      const line = (phase: string) => {
        const c = collector.checker.counts();
        // While the broker is lost, as a one-process run's line: its nodes online now, and for how long.
        const lostS = outages.downS();
        const lost =
          lostS === undefined
            ? ""
            : `; online ${collector.online.size}/${mine.length} here; BROKER LOST ${lostS.toFixed(0)} s`;
        return `[shard ${spec.index}/${spec.count} ${phase}] registered ${registeredAt.size}/${mine.length} here, ${fleetRegistered()}/${ids.length} in the fleet; presses ${recorder.presses.length}, applied ${recorder.applies.length}, in-shard pairs ${c.deliveries} delivered, ${c.lost} later than 5 s${lost}${clashes.words()}`;
      };
      let phase = "boot";
      timers.push(every(sched, opts.progressEveryS * 1000, () => note(line(phase))));
      note(
        `shard ${spec.index}/${spec.count}: ${mine.length} of ${ids.length} nodes on ${displayUrl(url)}; presses start once the whole fleet has registered`,
      );
      const ownLimit = startedAt + bootSpreadMs + REGISTRATION_LIMIT_MS;
      let seen = 0;
      let seenAt = sched.now();
      const readyToPress = () => {
        const n = fleetRegistered();
        if (n > seen) {
          seen = n;
          seenAt = sched.now();
        }
        if (n >= ids.length) return true;
        return sched.now() >= ownLimit && sched.now() - seenAt >= REGISTRATION_LIMIT_MS;
      };
      await this.waits.poll(readyToPress, startedAt + SHARD_START_MAX_MS);
      // Cut short before its presses: none begin (the merge read a press start as presses begun early).
      const pressed = !this.cut;
      const pressFrom = sched.now() + (pressed ? 200 : 0);
      if (pressed) {
        const pressUntil = pressFrom + (opts.durationS - opts.pressesEndEarlyS) * 1000;
        pool.broadcast({ type: "start-presses", from: pressFrom, until: pressUntil });
        const up = mine.filter((id) => registeredAt.has(id)); // does the controller hold them?
        shardHeldEarlyLine(client, target, up, ids.length, sched, signal).then(
          (l) => l !== undefined && note(l),
          () => {},
        );
        phase = "press";
        note(line(phase));
        await this.waits.until(pressFrom + opts.durationS * 1000);
      }
      const rssMB = processRssMB(hooks.rss); // unreadable at the open-files limit: absent, not a crash
      if (pressed) pool.broadcast({ type: "stop-presses" });
      // Cut in its presses (a signal, a thread's death): no settle to tell of.
      if (pressed && !this.cut) {
        phase = "settle";
        note(line(phase));
        await this.waits.until(sched.now() + opts.settleS * 1000);
      }
      const twinsView = source.view(mine, pairing);
      // Asked before they stop; a stop during the look ends it there, and the report has no `held`.
      this.asking = new AbortController();
      this.ending = "asking the twins service which of its nodes it holds";
      const held = await askShardHeld(client, target, mine, sched, this.asking.signal);
      this.ending = "waiting for its nodes' results";
      const results = await pool.finish();
      this.ending = undefined;
      for (const r of results) lag.worker(r.shard, r.lagP99Ms, r.lagMaxMs);
      const probes = probe.stop();
      collector.finish();
      const endMs = sched.now();
      const c = collector.checker.counts();
      const registration = registrationTimes(mine, registeredAt, collector.bootAt);
      const link = linkTotals(results);
      const finals: [string, boolean, string, number, boolean][] = [];
      for (const r of results)
        for (const n of r.nodes)
          finals.push([n.id, n.on, formatStamp(n.stamp), cpuRounded(n.cpuPct), n.synced]);
      const worst = lag.worst();
      const told = shardBrokerReports(
        outages,
        {
          fleet: mine,
          reach: localReach,
          timeline: collector.timeline,
          pairs: collector.checker.pairs(),
          slow: collector.checker.slow,
          pressTimes: collector.checker.pressTimes,
          early: collector.checker.early(),
          endMs,
        },
        pressFrom,
        collector.ignoredAt,
        wall,
      );
      claimOf = () => claimReport(opened.claim, pressed ? pressFrom : endMs, endMs);
      file = {
        format: SHARD_REPORT_FORMAT,
        shard: { index: spec.index, count: spec.count },
        fleet: {
          fingerprint: fleetFingerprint(ids, pairing, {
            seed: opts.seed,
            ratePerNodePerMin: opts.ratePerNodePerMin,
            durationS: opts.durationS,
          }),
          ...fleetShape(opts, profile.name),
          settleS: opts.settleS,
          prefix: opts.prefix,
        },
        broker: displayUrl(url),
        hostname: hostname(),
        build: VERSION,
        startedAtMs: wall(startedAt),
        // A shard cut short before its presses says so with a press start at its end.
        pressStartMs: wall(pressed ? pressFrom : endMs),
        endMs: wall(endMs),
        cutShort: this.cut,
        nodes: mine,
        pairing: Object.fromEntries(mine.map((id) => [id, [...(pairing.get(id) ?? [])]])),
        fleetPairing: Object.fromEntries(ids.map((id) => [id, [...(pairing.get(id) ?? [])]])),
        presses: recorder.presses,
        applies: recorder.applies,
        originated: Object.fromEntries([...collector.originated].map(([id, s]) => [id, formatStamp(s)])),
        finals,
        registrationMs: Object.fromEntries(registration.ms),
        histograms: {
          registration: registration.histogram.encode(),
          echo: collector.echo.encode(),
          localSync: collector.checker.latency.encode(),
        },
        counts: {
          presses: recorder.presses.length,
          applies: recorder.applies.length,
          localDeliveries: c.deliveries,
          localLost: c.lost,
          regressions: collector.regressions.count,
          disconnects: collector.disconnects,
          pressesIgnored: collector.pressesIgnored,
        },
        link,
        sim: {
          lagP99Ms: Math.round(worst.p99Ms * 10) / 10,
          lagMaxMs: Math.round(worst.maxMs * 10) / 10,
          ...(rssMB !== undefined ? { rssMB: Math.round(rssMB * 10) / 10 } : {}),
          workers: opts.workers,
          wallS: Math.round((endMs - startedAt) / 100) / 10,
        },
        twinsView,
        probes,
        brokerOutages: told.brokerOutages,
        ...(told.stalls !== undefined ? { stalls: told.stalls } : {}),
        ...clashes.reportKeys(pressFrom),
        ...(held ? { held } : {}),
        ...movedField(at.moves?.report(pressed ? pressFrom : endMs)),
        ...(deaths.first !== undefined ? { threadDied: deaths.first } : {}),
        timeline: wallTimeline(collector.timeline, wall),
      };
    } finally {
      // A start that failed (ids in use, a stop in their wait) left the probe sending: the process never ended.
      opened.probe?.stop();
      for (const t of timers) t.cancel();
      lag.stop();
      this.ending = "stopping its nodes";
      await hooks.ending?.(this.ending);
      await this.pool?.destroy().catch(() => {});
      this.ending = "clearing its claim on its ids";
      await hooks.ending?.(this.ending);
      await opened.claim?.close(); // once its nodes have gone
      this.ending = "ending its connection to the broker";
      // Stopped, at once: a gentle end waits for whatever the broker left unanswered (a subscription,
      // a publish), and a broker that answers nothing more held the process for ever.
      await opened.client?.endAsync(this.cut).catch(() => {});
      this.ending = undefined;
      this.stopTold?.cancel();
    }
    if (file === undefined) throw new Error("the shard ended with no report");
    // Read before, its report left out a clear by someone else while its nodes stopped (claimed again,
    // and said); the clear at its end is its own, no loss (fleet/claim-hold.ts).
    return { ...file, ...claimField(claimOf?.()) };
  }
}
