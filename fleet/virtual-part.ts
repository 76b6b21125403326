/**
 * One part of a virtual-time fleet split over worker threads (fleet/virtual-split.ts): whole groups
 * of the fleet — nodes that exchange messages only among themselves — with their own in-memory
 * broker, twins service and FakeScheduler. It goes through the run's phases as FleetRun does, its
 * timers made in the same order at the same times, so each of its nodes lives exactly as in a run
 * of the whole fleet: it boots at its slot in the whole fleet, launches at the time the whole fleet's
 * pairing was desired (`t0`, from the coordinator), and starts its presses when every part has
 * registered (the coordinator's answer to `registered`). At the end it hands over what the report
 * is merged from (fleet/virtual-merge.ts): counts, histograms, registration times, final states.
 */
import { type Logger, pino } from "pino";
import { every, sleep, type Timer } from "../node/scheduler.js";
import { formatStamp, type NodeId } from "../protocol/index.js";
import { type NodeFinal, noLinkTotals, type ShardResult } from "../sim/messages.js";
import { followersReach, type Pairing } from "../sim/topology.js";
import { VirtualShards } from "../sim/virtual-shards.js";
import { Collector, REORDER_WINDOW_MS } from "./collector.js";
import { type FleetOptions, lossSpecOf, resolveFleetOptions } from "./options.js";
import type { RunPhase } from "./progress.js";
import { bootSpreadMs, PRESS_LEAD_MS, REGISTRATION_LIMIT_MS, Registrations } from "./registrations.js";
import { type SettleStatus, SettleWait } from "./settle.js";
import { planFleet } from "./setup.js";
import { routeShardReports, shardCommon } from "./shards.js";
import { registrationTimes } from "./tally.js";
import { type FleetPlan, prepareVirtualFleet, VirtualClock } from "./virtual.js";

/** What a part is: the fleet's options and its nodes, `from` up to (not including) `to` in the fleet's order. */
export interface PartTask {
  readonly options: FleetOptions;
  readonly from: number;
  readonly to: number;
  /** The date virtual time 0 stands for (the coordinator's). */
  readonly epochMs: number;
}

/** A part's figures at one of the run's progress points (fleet/progress.ts, summed by the coordinator). */
export interface PartFigures {
  readonly registered: number;
  readonly online: number;
  readonly away: number;
  readonly presses: number;
  readonly held: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly lostForGood: number;
  readonly inFlight: number;
  readonly notBack: number;
  readonly lossPct: number;
  /** The sync latency histogram so far (Distribution.encode). */
  readonly latency: string;
}

/** What the report is merged from. */
export interface PartResult {
  readonly counts: {
    readonly presses: number;
    readonly deliveries: number;
    readonly superseded: number;
    readonly lost: number;
    readonly late: number;
    readonly lostForGood: number;
    readonly lostWithPower: number;
    readonly pressesIgnored: number;
  };
  readonly latency: string;
  /** The histograms' exact maxima (an encoded histogram keeps only its buckets'). */
  readonly latencyMax: number;
  readonly registrationMax: number;
  readonly regressions: number;
  readonly regressionList: readonly { node: string; at: number; held: string; now: string }[];
  readonly originated: readonly (readonly [NodeId, string])[];
  /** Registration times in ms, in the fleet's order, and their histogram. */
  readonly registrationMs: readonly number[];
  readonly registrationHistogram: string;
  readonly twinsView: { known: number; online: number; desiredAsPaired: number; pairingConfirmed: number };
  readonly result: ShardResult;
  readonly pressStartMs: number;
  readonly settleFrom: number;
  readonly endMs: number;
  readonly stoppedAt: number;
  readonly startedAt: number;
  readonly cutShort: boolean;
  /** Seconds of presses made when stopped early (negative: stopped before the first was due), else --duration. */
  readonly pressedS: number;
  /** Cut short before the presses (`presses`) or the settle (`settle`) began, as FleetRun's. */
  readonly cutBefore?: "presses" | "settle";
}

export type PartMessage =
  | { readonly type: "prepared"; readonly at: number }
  | {
      readonly type: "progress";
      readonly at: number;
      readonly phase: RunPhase;
      readonly figures: PartFigures;
      readonly settle?: SettleStatus;
    }
  | { readonly type: "registered"; readonly at: number }
  | { readonly type: "done"; readonly result: PartResult }
  | { readonly type: "error"; readonly message: string };

export type CoordinatorMessage =
  | { readonly type: "launch"; readonly at: number }
  | { readonly type: "press"; readonly at: number }
  | { readonly type: "stop" }
  | { readonly type: "cut" };

/** The nodes `from` … `to` of the fleet's plan, with their pairing (whole groups: no source outside). */
export function partPlan(plan: FleetPlan, from: number, to: number) {
  const ids = plan.ids.slice(from, to);
  const mine = new Set(ids);
  const pairing: Pairing = new Map([...plan.pairing].filter(([id]) => mine.has(id)));
  return { ...plan, ids, pairing };
}

export class VirtualPart {
  private phase: RunPhase = "boot";
  private readonly incoming: ((m: CoordinatorMessage) => void)[] = [];
  private stopped = false;
  private cutNow = false;
  private settleWait: SettleWait | undefined;
  private stopWait: (() => void) | undefined;

  constructor(
    private readonly task: PartTask,
    private readonly post: (m: PartMessage) => void,
    private readonly logger: Logger = pino({ level: "silent" }),
  ) {}

  /** A message from the coordinator. */
  receive(m: CoordinatorMessage): void {
    if (m.type === "stop" || m.type === "cut") {
      this.stopped = true;
      if (m.type === "cut") {
        this.cutNow = true;
        this.settleWait?.cut();
      }
      this.stopWait?.();
      return;
    }
    for (const f of this.incoming.splice(0)) f(m);
  }

  /** Calls `fn` with the coordinator's next message of `type`. */
  private when<T extends CoordinatorMessage["type"]>(
    type: T,
    fn: (m: Extract<CoordinatorMessage, { type: T }>) => void,
  ): void {
    const f = (m: CoordinatorMessage) => {
      if (m.type === type) fn(m as Extract<CoordinatorMessage, { type: T }>);
      else this.incoming.push(f);
    };
    this.incoming.push(f);
  }

  private next<T extends CoordinatorMessage["type"]>(
    type: T,
  ): Promise<Extract<CoordinatorMessage, { type: T }>> {
    return new Promise((resolve) => this.when(type, resolve));
  }

  /** Runs the part to its end; the result also goes to the coordinator as `done`. */
  async run(): Promise<PartResult> {
    const opts = resolveFleetOptions({ ...this.task.options, workers: undefined });
    const whole = planFleet(opts);
    const plan = partPlan(whole, this.task.from, this.task.to);
    const { ids, pairing } = plan;
    const clock = new VirtualClock(this.task.epochMs);
    const sched = clock.sched;
    let collector: Collector | undefined;
    const onShard = routeShardReports({
      events: (events) => collector?.push(events),
      lag: { worker: () => {} },
      error: (text) => this.logger.error(text),
    });
    const parts = await prepareVirtualFleet(opts, clock, this.logger, plan);
    this.post({ type: "prepared", at: clock.fake.now() });
    const launchAt = (await this.next("launch")).at;
    if (launchAt < clock.fake.now())
      throw new Error(
        `part ${this.task.from}…${this.task.to} was ready at ${clock.fake.now()} ms, past ${launchAt}`,
      );
    const idle = sleep(sched, launchAt - clock.fake.now());
    await clock.drive(idle);
    const pool = new VirtualShards(clock.fake, parts.memory, onShard, whole.ids);
    collector = new Collector(followersReach(pairing));
    const c = collector;
    const startedAt = sched.now();
    const registeredAt = new Registrations(ids, parts.source, c.timeline, () => sched.now()).first;
    const spreadMs = bootSpreadMs(opts.nodes);
    const timers: Timer[] = [];
    let lossPct = opts.lossPct;
    const figures = (): PartFigures => {
      const k = c.checker.counts();
      return {
        registered: registeredAt.size,
        online: c.online.size,
        away: c.away.size,
        presses: k.presses,
        held: c.holding,
        deliveries: k.deliveries,
        lost: k.lost,
        lostForGood: k.lostForGood,
        inFlight: k.pending,
        notBack: ids.length - Math.min(c.synced.size, registeredAt.size),
        lossPct,
        latency: c.checker.latency.encode(),
      };
    };
    const progress = () => {
      const w = this.settleWait;
      const settle =
        this.phase === "settle" && w
          ? w.status(this.stopped, { inFlight: 0, faults: 0, notBack: 0 })
          : undefined;
      this.post({
        type: "progress",
        at: sched.now(),
        phase: this.phase,
        figures: figures(),
        ...(settle ? { settle } : {}),
      });
    };
    const setPhase = (p: RunPhase) => {
      this.phase = p;
      progress();
    };
    const lifecycle = async (): Promise<PartResult> => {
      // FleetRun's boot wait, answered by the coordinator: the presses start when every part has
      // registered, at the first 100 ms tick when the whole fleet has (the last part's).
      await new Promise<void>((resolve) => {
        const deadline = startedAt + spreadMs + REGISTRATION_LIMIT_MS;
        let said = false;
        let pressAt: number | undefined;
        const tick = every(sched, 100, () => {
          if (!said && (this.stopped || registeredAt.size >= ids.length || sched.now() >= deadline)) {
            said = true;
            clock.setPace({ speed: "max", paused: true });
            this.post({ type: "registered", at: sched.now() });
            this.when("press", (m) => {
              pressAt = m.at;
              if (sched.now() >= pressAt) finish();
              else clock.setPace({ speed: "max", paused: false });
            });
          } else if (pressAt !== undefined && sched.now() >= pressAt) finish();
        });
        const finish = () => {
          tick.cancel();
          clock.setPace({ speed: "max", paused: false });
          resolve();
        };
      });
      const pressFrom = sched.now() + PRESS_LEAD_MS;
      const pressUntil = pressFrom + (opts.durationS - opts.pressesEndEarlyS) * 1000;
      // As FleetRun: stopped during the boot, no press; cut short, no settle to tell of.
      let cutBefore: PartResult["cutBefore"] = this.cutNow ? "presses" : undefined;
      if (!this.stopped) {
        pool.broadcast({ type: "start-presses", from: pressFrom, until: pressUntil });
        setPhase("press");
      }
      await new Promise<void>((resolve) => {
        if (this.stopped) return resolve();
        const t = sched.at(pressFrom + opts.durationS * 1000, resolve);
        this.stopWait = () => {
          t.cancel();
          resolve();
        };
      });
      const settleFrom = sched.now();
      const minUntil = settleFrom + opts.settleS * 1000;
      const wait = new SettleWait(minUntil, minUntil, sched);
      this.settleWait = wait;
      if (this.cutNow) wait.cut();
      if (this.cutNow) cutBefore ??= "settle";
      else setPhase("settle");
      const pressedS = this.stopped ? (settleFrom - pressFrom) / 1000 : opts.durationS;
      pool.broadcast({ type: "stop-presses" });
      if (opts.lossPct !== 0) {
        lossPct = 0;
        pool.broadcast({ type: "set-loss", loss: lossSpecOf(opts, 0) });
      }
      await wait.wait(
        () => true,
        () => {},
      );
      const endMs = sched.now() - REORDER_WINDOW_MS;
      const twinsView = parts.source.view(ids, pairing);
      const [result] = await pool.finish();
      const stoppedAt = sched.now();
      c.finish();
      const reg = registrationTimes(ids, registeredAt, c.bootAt);
      const k = c.checker.counts();
      const out: PartResult = {
        counts: {
          presses: k.presses,
          deliveries: k.deliveries,
          superseded: k.superseded,
          lost: k.lost,
          late: k.late,
          lostForGood: k.lostForGood,
          lostWithPower: k.lostWithPower,
          pressesIgnored: c.pressesIgnored,
        },
        latency: c.checker.latency.encode(),
        latencyMax: c.checker.latency.summary().max,
        registrationMax: reg.histogram.summary().max,
        regressions: c.regressions.count,
        regressionList: c.regressions.list.slice(0, 50).map((r) => ({
          node: r.node,
          at: r.at,
          held: formatStamp(r.held),
          now: formatStamp(r.now),
        })),
        originated: [...c.originated].map(([id, s]) => [id, formatStamp(s)] as const),
        registrationMs: [...reg.ms.values()],
        registrationHistogram: reg.histogram.encode(),
        twinsView,
        result: result ?? {
          shard: 0,
          nodes: [] as NodeFinal[],
          link: noLinkTotals(),
          lagP99Ms: 0,
          lagMaxMs: 0,
        },
        pressStartMs: pressFrom,
        settleFrom,
        endMs,
        stoppedAt,
        startedAt,
        cutShort: this.cutNow,
        pressedS,
        ...(cutBefore !== undefined ? { cutBefore } : {}),
      };
      setPhase("done");
      return out;
    };
    const done = lifecycle();
    const timeOrigin = sched.wallNow() - sched.now();
    pool.launch(
      ids,
      1,
      startedAt,
      spreadMs,
      shardCommon(opts, plan.profile, { host: "memory", port: 0, timeOrigin }),
    );
    timers.push(
      every(sched, 100, () => {
        const now = sched.now();
        c.advance(now, REORDER_WINDOW_MS, false);
      }),
    );
    timers.push(every(sched, opts.progressEveryS * 1000, progress));
    try {
      await clock.drive(done);
      const result = await done;
      this.post({ type: "done", result });
      return result;
    } finally {
      for (const t of timers) t.cancel();
      await pool.destroy().catch(() => {});
      await parts.twins?.close().catch(() => {});
    }
  }
}
