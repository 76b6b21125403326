/**
 * The fleet's worker pool: one piscina task per shard of nodes, each with its own MessagePort for
 * events (worker → main) and controls (main → worker), and with the embedded broker one in-memory
 * transport port to the broker's thread (fleet/broker-thread.ts). Knows which shard owns which node.
 * With no worker threads the one shard runs in the main thread, over the same ports.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { Piscina } from "piscina";
import type { HeapReading } from "../node/heap-live.js";
import { startable } from "../node/paths.js";
import type { DeviceProfile } from "../node/profile.js";
import type { NodeId } from "../protocol/index.js";
import { assertNever } from "../protocol/index.js";
import {
  type ShardCommon,
  type ShardControl,
  type ShardHost,
  type ShardPortMessage,
  type ShardReport,
  type ShardResult,
  type ShardTask,
  type SimNodeDetail,
  shardSlots,
} from "../sim/messages.js";
import runShardHere from "../sim/worker.js";
import type { NodeBrokerAt } from "./broker-address.js";
import type { BrokerHost } from "./broker-host.js";
import { lossSpecOf, type ResolvedFleetOptions } from "./options.js";
import { threadCause } from "./thread-death.js";

/** Where a shard's reports go: its events, its event-loop lag, its errors (details are asked for). */
export interface ShardReportSinks {
  readonly events: (events: Extract<ShardReport, { type: "events" }>["events"]) => void;
  readonly lag?: {
    worker(shard: number, p99Ms: number, maxMs: number, recentP99Ms?: number, heap?: HeapReading): void;
  };
  readonly error: (text: string) => void;
}

/** Routes every kind of shard report to its sink. */
export function routeShardReports(to: ShardReportSinks): (r: ShardReport) => void {
  return (r) => {
    switch (r.type) {
      case "events":
        return to.events(r.events);
      case "lag":
        return to.lag?.worker(r.shard, r.p99Ms, r.maxMs, r.recentP99Ms, r.heap);
      case "error":
        return to.error(r.shard === undefined ? r.message : `worker ${r.shard}: ${r.message}`);
      case "detail":
        return;
      default:
        assertNever(r);
    }
  };
}

/**
 * The sim's worker module: JavaScript from dist/, or the TypeScript sources under tsx (tests). A
 * thread loads it with import(), never require(): piscina tries require() first, which loads an ES
 * module synchronously on Node 20.19+, and a thread ended during that load (a run cut short as its
 * threads start) aborts the whole process with a V8 fatal error ("IsGraphAsync must be used on an
 * instantiated module"). Without require(esm) piscina's require() throws and it imports instead.
 */
export function workerModule(): { filename: string; execArgv: string[] } {
  const worker = startable("sim/worker");
  return { filename: worker.url.href, execArgv: [...worker.execArgv, "--no-experimental-require-module"] };
}

/** What the shards' tasks run on: piscina's pool of threads (a test gives one of its own). */
export interface ThreadPool {
  /** Runs a shard's task on a thread, or queues it until one is free; `signal` takes it off the queue. */
  run(task: ShardTask, options: { transferList: MessagePort[]; signal: AbortSignal }): Promise<unknown>;
  /** A thread that failed as it started with no task yet; the pool starts no more. */
  on(event: "error", listener: (e: Error) => void): unknown;
  /** Tasks waiting for a thread. */
  readonly queueSize: number;
  destroy(): Promise<void>;
}

/** A pool of `threads` threads running `worker` (the sim's worker module unless told). */
export function piscinaOf(
  worker: { filename: string; execArgv: string[] } = workerModule(),
): (threads: number) => ThreadPool {
  return (threads) =>
    new Piscina({
      filename: worker.filename,
      execArgv: worker.execArgv,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      // A shard runs for the whole fleet run; never time it out.
      maxQueue: "auto",
    });
}

export class ShardPool implements ShardHost {
  private readonly pool: ThreadPool | undefined;
  private readonly ports: MessagePort[] = [];
  private readonly owner = new Map<NodeId, number>();
  private readonly results: Promise<ShardResult>[] = [];
  /** Each shard's last word on its port (ShardDone), which follows its last events. */
  private readonly done: Promise<void>[] = [];
  private readonly pendingDetail = new Map<number, (d: SimNodeDetail | undefined) => void>();
  private nextRequest = 0;
  private destroyed = false;
  /** Each shard's task's abort, for one still queued when the pool can start no more threads. */
  private readonly aborts: AbortController[] = [];
  /** Why the pool could start no more threads (a thread that failed as it started), once it did. */
  private startFailure: Error | undefined;
  /** A shard's task ended before finish(). */
  private anyDied = false;

  /**
   * `link`, when given, makes each shard's in-memory transport to the broker thread (the shard's
   * nodes then open no socket). `onDied`, when given, hears of a shard whose task ended before
   * finish() (its thread out of memory, an uncaught error, the thread ended): finish() then returns
   * the other shards' results. Without it such a shard is reported as an error and finish() fails.
   */
  constructor(
    threads: number,
    private readonly onReport: (r: ShardReport) => void,
    private readonly link?: (shard: number) => MessagePort,
    private readonly onDied?: (shard: number, e: Error, nodes: number) => void,
    threadPool: (threads: number) => ThreadPool = piscinaOf(),
  ) {
    if (threads === 0) return;
    this.pool = threadPool(threads);
    // A thread that fails as it starts before it has a task (under a low `ulimit -n`, EMFILE: the
    // one piscina starts in place of a shard's thread that died of it) is told on the pool, which
    // then starts no other: unheard, the process crashed on an unhandled 'error' with a stack trace,
    // and a shard queued for a thread waited for ever.
    this.pool.on("error", (e: Error) => this.failedToStart(e));
  }

  /**
   * The pool could not start a thread that had no task yet (one replacing a thread that died, or
   * started for a queued shard), and will start no more: the shards still queued (the last ones:
   * piscina hands its queue out in order) are taken off the queue and die of that error.
   */
  private failedToStart(e: Error): void {
    if (this.destroyed || this.startFailure !== undefined) return;
    this.startFailure = e;
    const queued = this.pool?.queueSize ?? 0;
    const shards = this.ports.length;
    for (let s = shards - queued; s < shards; s++) this.aborts[s]?.abort(e);
    // None waited for it: a replacement for a shard's thread whose death is already told, or a
    // thread beyond the shards. Nothing is lost; it is told unless a death already ends the run,
    // as no shard's: it was said as `worker N`, N one past the last shard's thread (worker-0 on).
    if (queued === 0 && !this.anyDied)
      this.onReport({
        type: "error",
        message: `a spare worker thread (none of the ${shards} shards' own) could not start: ${threadCause(e).reason}`,
      });
  }

  /**
   * Starts the fleet's nodes over `shards` shards: shard s holds every shards-th node from s on, so
   * each node's boot slot (one after another over `bootSpreadMs`, from `t0` on the run's clock)
   * follows from its index.
   */
  launch(
    ids: readonly NodeId[],
    shards: number,
    t0: number,
    bootSpreadMs: number,
    common: ShardCommon,
  ): void {
    shardSlots(ids, shards, t0, bootSpreadMs).forEach((slots, s) => {
      this.start({ ...common, shard: s, ...slots });
    });
  }

  /** Starts a shard; its task runs until finish(). */
  start(task: Omit<ShardTask, "port">): void {
    const { port1, port2 } = new MessageChannel();
    const shard = this.ports.length;
    this.ports.push(port1);
    let done = () => {};
    this.done.push(new Promise<void>((resolve) => (done = resolve)));
    for (const id of task.ids) this.owner.set(id, shard);
    port1.on("message", (m: ShardPortMessage) => {
      if (m.type === "done") {
        done();
        return;
      }
      if (m.type === "detail") {
        this.pendingDetail.get(m.requestId)?.(m.detail);
        this.pendingDetail.delete(m.requestId);
        return;
      }
      this.onReport(m);
    });
    const brokerLink = this.link?.(shard);
    const full: ShardTask = { ...task, port: port2, ...(brokerLink ? { brokerLink } : {}) };
    const abort = new AbortController();
    this.aborts.push(abort);
    const result = this.pool
      ? (this.pool.run(full, {
          transferList: brokerLink ? [port2, brokerLink] : [port2],
          signal: abort.signal,
        }) as Promise<ShardResult>)
      : runShardHere(full);
    // finish() awaits the result; a shard that fails before that is reported at once, and the
    // tasks destroy() ends (a run failing for another reason) are no error of their own. A shard
    // taken off the queue (failedToStart) dies of its thread's failure, not of the abort.
    result.catch((caught: Error) => {
      if (this.destroyed) return;
      const e = abort.signal.aborted && this.startFailure ? this.startFailure : caught;
      this.anyDied = true;
      if (this.onDied === undefined) return this.onReport({ type: "error", shard, message: e.message });
      done(); // its port will say nothing more
      this.onDied(shard, e, task.ids.length);
    });
    this.results.push(result);
  }

  broadcast(c: ShardControl): void {
    for (const p of this.ports) p.postMessage(c);
  }

  /** Sends a control to the shard that owns `id`; false if no shard does. */
  send(id: NodeId, c: ShardControl): boolean {
    const s = this.owner.get(id);
    if (s === undefined) return false;
    this.ports[s]?.postMessage(c);
    return true;
  }

  /** Sends one control per shard for the ids it owns (`make` gets that shard's share). */
  sendMany(ids: readonly NodeId[], make: (ids: readonly NodeId[]) => ShardControl): void {
    const byShard = new Map<number, NodeId[]>();
    for (const id of ids) {
      const s = this.owner.get(id);
      if (s === undefined) continue;
      const list = byShard.get(s);
      if (list) list.push(id);
      else byShard.set(s, [id]);
    }
    for (const [s, list] of byShard) this.ports[s]?.postMessage(make(list));
  }

  has(id: NodeId): boolean {
    return this.owner.has(id);
  }

  detail(id: NodeId): Promise<SimNodeDetail | undefined> {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      this.pendingDetail.set(requestId, resolve);
      if (!this.send(id, { type: "detail", id, requestId })) {
        this.pendingDetail.delete(requestId);
        resolve(undefined);
      }
    });
  }

  /** Stops every shard and collects their final states (with `onDied`, those of the shards still alive). */
  async finish(): Promise<ShardResult[]> {
    this.broadcast({ type: "finish" });
    const results =
      this.onDied === undefined
        ? await Promise.all(this.results)
        : (await Promise.allSettled(this.results)).flatMap((r) =>
            r.status === "fulfilled" ? [r.value] : [],
          );
    // A shard posts its last events on its port, then returns its result by another way, which may
    // come first: closing the ports then dropped those events (a shard in this thread lost them every
    // time). Its last word on the port comes after them.
    await Promise.all(this.done);
    for (const p of this.ports) p.close();
    return results;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const p of this.ports) p.close();
    await this.pool?.destroy();
  }
}

/** What every shard of a run gets: where the broker is, the nodes' settings, the run's clock origin. */
export function shardCommon(
  opts: ResolvedFleetOptions,
  profile: DeviceProfile,
  at: NodeBrokerAt & { readonly timeOrigin: number },
): ShardCommon {
  return {
    brokerHost: at.host,
    brokerPort: at.port,
    ...(at.addresses !== undefined ? { brokerAddresses: at.addresses } : {}),
    prefix: opts.prefix,
    profile,
    seed: opts.seed,
    loss: lossSpecOf(opts, opts.lossPct),
    ...(opts.ratePerNodePerMin > 0 ? { pressRatePerSec: opts.ratePerNodePerMin / 60 } : {}),
    timeOrigin: at.timeOrigin,
    ...(opts.nodePassword !== undefined ? { nodePassword: opts.nodePassword } : {}),
  };
}

/** Where the nodes' in-memory transport comes from: every node shows to the broker as this one address, as on loopback. */
export const IN_PROCESS_ADDRESS = "in-process";

/** In-memory transports to the run's broker, when it is a thread of this process (else TCP). */
export function linkOf(b: BrokerHost): ((shard: number) => MessagePort) | undefined {
  const link = b.link?.bind(b);
  return link ? () => link(IN_PROCESS_ADDRESS) : undefined;
}
