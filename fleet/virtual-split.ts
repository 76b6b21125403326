/**
 * A headless virtual-time fleet run split over worker threads. Nodes of different groups exchange
 * messages only through the broker (a constant delay per packet, no shared queue) and the twins
 * service, and each node draws from its own random streams, so the fleet's groups can run as parts
 * (fleet/virtual-part.ts), each with its own in-memory broker, twins service and clock in a thread of
 * its own, and the report merged from them (fleet/virtual-merge.ts) is the one the whole fleet gives
 * in one thread. This module cuts the fleet into parts (contiguous, whole groups, about the same
 * size), starts the threads, holds the two moments every part must share — when the nodes launch
 * (once the whole fleet's pairing has been desired) and when the presses start (once every part has
 * registered) — and merges the progress lines and the report.
 */
import { EventEmitter } from "node:events";
import { getHeapStatistics } from "node:v8";
import { Worker } from "node:worker_threads";
import { type Logger, pino } from "pino";
import { RealScheduler } from "../node/scheduler.js";
import { assertNever } from "../protocol/index.js";
import { Distribution } from "../sim/histogram.js";
import type { Pairing } from "../sim/topology.js";
import type { FleetOptions, ResolvedFleetOptions } from "./options.js";
import { partYoungGenerationMB } from "./part-young.js";
import type { FleetRunEvents, Progress, RunPhase } from "./progress.js";
import type { Report } from "./report.js";
import { planFleet } from "./setup.js";
import { type ThreadDeath, threadCause, threadDeathLine } from "./thread-death.js";
import { threadSource } from "./thread-source.js";
import { type FleetPlan, prepareVirtualFleet, VirtualClock } from "./virtual.js";
import { mergeParts } from "./virtual-merge.js";
import type { CoordinatorMessage, PartMessage, PartResult, PartTask } from "./virtual-part.js";

/**
 * A part's heap: room for its nodes (about 50 KB each in a large run) twice over, and at least this
 * thread's own limit (V8's default, or --max-old-space-size): a smaller one made the parts collect
 * more often (a 20,000-node run over two threads took 6–12 % more CPU with 2 GB than with 4 GB each).
 */
const PART_HEAP_MB_PER_NODE = 0.1;
const partHeapMinMB = () => Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);

/**
 * Where the fleet (ids in order, `pairing`) may be cut: before index i when no node follows one on
 * the other side of it. Returns up to `parts` ranges [from, to) of about equal size, or one range
 * when there is no cut.
 */
export function splitFleet(ids: readonly string[], pairing: Pairing, parts: number): [number, number][] {
  const n = ids.length;
  const index = new Map(ids.map((id, i) => [id, i]));
  // cover[i] > 0: an edge spans the cut before index i.
  const cover = new Array<number>(n + 1).fill(0);
  for (const [f, sources] of pairing) {
    const a = index.get(f);
    if (a === undefined) continue;
    for (const s of sources) {
      const b = index.get(s);
      if (b === undefined || a === b) continue;
      cover[Math.min(a, b) + 1] = (cover[Math.min(a, b) + 1] ?? 0) + 1;
      cover[Math.max(a, b) + 1] = (cover[Math.max(a, b) + 1] ?? 0) - 1;
    }
  }
  const cuts: number[] = [];
  let open = 0;
  for (let i = 1; i < n; i++) {
    open += cover[i] ?? 0;
    if (open === 0) cuts.push(i);
  }
  const out: [number, number][] = [];
  let from = 0;
  for (let k = 1; k < parts && cuts.length > 0; k++) {
    const target = Math.round((k * n) / parts);
    let best: number | undefined;
    for (const c of cuts)
      if (c > from && (best === undefined || Math.abs(c - target) < Math.abs(best - target))) best = c;
    if (best === undefined || best >= n) break;
    out.push([from, best]);
    from = best;
  }
  out.push([from, n]);
  return out;
}

/** Why a virtual run stays in one thread, or undefined when it can be split. */
export function splitProblem(o: ResolvedFleetOptions): string | undefined {
  if (o.faults.length > 0) return "faults act on the whole fleet at once";
  return undefined;
}

/**
 * A part's thread that died: the run's failure, with no report. The parts' figures are merged at
 * their end, and the dead part's went with its thread (before the presses, the others wait for it:
 * they launch, and press, when every part is there).
 */
export class PartDeathError extends Error {
  constructor(readonly death: ThreadDeath) {
    super(threadDeathLine(death));
  }
}

export class VirtualSplitRun extends EventEmitter<FleetRunEvents> {
  readonly brokerUrl = "memory://in-process";
  readonly nodesAt = undefined; // in memory: no address
  readonly joined = undefined;
  readonly kernelNet = undefined;
  readonly virtual = undefined;
  startedAt = 0;
  readonly done: Promise<Report>;
  /** The run's clock as far as the parts have all reported (their progress points). */
  readonly sched = { now: () => this.latest };
  private latest = 0;
  private stopped = false;
  private cut_ = false;
  private readonly workers: Worker[] = [];
  private readonly wall = new RealScheduler();
  private readonly wallStart = this.wall.now();

  private constructor(
    readonly opts: ResolvedFleetOptions,
    private readonly options: FleetOptions,
    readonly ranges: readonly [number, number][],
    private readonly logger: Logger,
  ) {
    super();
    this.done = this.lifecycle();
    // The caller listens for `done`; an early failure must not be unhandled meanwhile.
    this.done.catch(() => {});
  }

  /** Starts a split run of `opts` over `ranges` (splitFleet); `options` as given, for the threads. */
  static start(
    opts: ResolvedFleetOptions,
    options: FleetOptions,
    ranges: readonly [number, number][],
    logger: Logger = pino({ level: "silent" }),
  ): VirtualSplitRun {
    return new VirtualSplitRun(opts, options, ranges, logger);
  }

  get stopping(): boolean {
    return this.stopped;
  }

  get cutShort(): boolean {
    return this.cut_;
  }

  stop(): void {
    this.stopped = true;
    this.tell({ type: "stop" });
  }

  cut(): void {
    this.cut_ = true;
    this.stopped = true;
    this.tell({ type: "cut" });
  }

  private tell(m: CoordinatorMessage): void {
    for (const w of this.workers) w.postMessage(m);
  }

  private async lifecycle(): Promise<Report> {
    const { opts } = this;
    const plan = planFleet(opts);
    const epochMs = this.wall.wallNow();
    const n = this.ranges.length;
    const prepared: number[] = [];
    const registered: number[] = [];
    const results: (PartResult | undefined)[] = new Array(n).fill(undefined);
    const points = new Map<string, Extract<PartMessage, { type: "progress" }>[]>();
    let launchAt: number | undefined;
    let finished = 0;
    const launch = () => {
      if (launchAt === undefined || prepared.length < n) return;
      this.startedAt = launchAt;
      this.latest = launchAt;
      this.tell({ type: "launch", at: launchAt });
    };
    // A part's thread that cannot be made (Node refuses it: no memory for another isolate, limits it
    // will not take): the run fails at once, named, its threads made so far ended below. It used to
    // fail as Node's bare error, and only once the whole fleet's pairing had been desired (minutes,
    // on a large fleet), the threads made running meanwhile.
    let unstarted = false;
    const ended = new Promise<void>((resolve, reject) => {
      for (const [k, [from, to]] of this.ranges.entries()) {
        const task: PartTask = { options: { ...this.options, workers: undefined }, from, to, epochMs };
        const heap = Math.max(partHeapMinMB(), Math.ceil((to - from) * PART_HEAP_MB_PER_NODE));
        let w: Worker;
        try {
          w = new Worker(threadSource("fleet/virtual-part-worker"), {
            eval: true,
            workerData: task,
            resourceLimits: {
              maxOldGenerationSizeMb: heap,
              maxYoungGenerationSizeMb: partYoungGenerationMB(),
            },
          });
        } catch (e) {
          unstarted = true;
          const why = e instanceof Error ? e.message : String(e);
          reject(
            new Error(`part ${k + 1} of ${n} (${to - from} nodes): its thread could not be started: ${why}`),
          );
          break;
        }
        this.workers.push(w);
        w.on("message", (m: PartMessage) => {
          switch (m.type) {
            case "prepared":
              prepared.push(m.at);
              launch();
              break;
            case "registered":
              registered.push(m.at);
              if (registered.length === n) this.tell({ type: "press", at: Math.max(...registered) });
              break;
            case "progress": {
              const key = `${m.at}|${m.phase}`;
              const got = [...(points.get(key) ?? []), m];
              if (got.length < n) points.set(key, got);
              else {
                points.delete(key);
                this.progressAt(got);
              }
              break;
            }
            case "done":
              results[k] = m.result;
              if (++finished === n) resolve();
              break;
            case "error":
              reject(new Error(`part ${k + 1} of ${n}: ${m.message}`));
              break;
            default:
              assertNever(m);
          }
        });
        // Its thread out of memory (or an uncaught error): which, when and why, in one line
        // (fleet/thread-death.ts); it failed with V8's bare `Worker terminated due to reaching memory limit`.
        w.on("error", (e) => {
          const atS = Math.round((this.latest - this.startedAt) / 100) / 10;
          reject(new PartDeathError({ thread: `worker-${k + 1}`, ...threadCause(e), atS, nodes: to - from }));
        });
        w.on("exit", (code) => {
          if (results[k] === undefined)
            reject(new Error(`part ${k + 1} of ${n} ended (code ${code}) before its report`));
        });
      }
    });
    // A part that dies while the launch is found is heard of below: not an unhandled rejection meanwhile.
    ended.catch(() => {});
    try {
      if (unstarted) await ended;
      // The nodes launch when the whole fleet's pairing has been desired, as in one thread: that
      // takes longer than any part's, and is found here on a twins service of the whole fleet.
      launchAt = await this.desiredAt(plan);
      launch();
      await ended;
    } finally {
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
    return mergeParts(opts, plan.profile.name, plan.pairing, results as PartResult[]);
  }

  /** When a virtual run of the whole fleet launches its nodes: its twins service has desired the pairing. */
  private async desiredAt(plan: FleetPlan): Promise<number> {
    if (!this.opts.twins) return 0;
    const clock = new VirtualClock(this.wall.wallNow());
    const parts = await prepareVirtualFleet(this.opts, clock, this.logger, plan);
    const at = clock.fake.now();
    const twins = parts.twins;
    if (twins) await clock.drive(twins.kill());
    parts.memory.shutdown();
    return at;
  }

  /** Every part's figures at one progress point: one progress line. */
  private progressAt(got: Extract<PartMessage, { type: "progress" }>[]): void {
    const first = got[0];
    if (!first) return;
    const sum = (f: (m: (typeof got)[number]) => number) => got.reduce((a, m) => a + f(m), 0);
    const latency = new Distribution();
    for (const m of got) latency.addEncoded(m.figures.latency);
    this.latest = first.at;
    const wallS = (this.wall.now() - this.wallStart) / 1000;
    const phase: RunPhase = first.phase;
    const p: Progress = {
      phase,
      elapsedS: (first.at - this.startedAt) / 1000,
      nodes: this.opts.nodes,
      registered: sum((m) => m.figures.registered),
      online: sum((m) => m.figures.online),
      away: sum((m) => m.figures.away),
      presses: sum((m) => m.figures.presses),
      held: sum((m) => m.figures.held),
      deliveries: sum((m) => m.figures.deliveries),
      lost: sum((m) => m.figures.lost),
      lostForGood: sum((m) => m.figures.lostForGood),
      p50Ms: latency.percentile(50),
      p99Ms: latency.percentile(99),
      lossPct: first.figures.lossPct,
      lagP99Ms: 0,
      faults: 0,
      ...(first.settle
        ? {
            settle: {
              ...first.settle,
              inFlight: sum((m) => m.figures.inFlight),
              notBack: sum((m) => m.figures.notBack),
            },
          }
        : {}),
      virtual: { wallS, speedup: wallS > 0 ? first.at / 1000 / wallS : 0 },
    };
    // FleetRun tells each phase as it begins, then its progress line.
    if (phase !== "boot" && !this.phases.has(phase)) {
      this.phases.add(phase);
      this.emit("phase", phase);
    }
    this.emit("progress", p);
  }

  private readonly phases = new Set<RunPhase>();
}
