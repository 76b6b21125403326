/**
 * The raw baseline for the overhead benchmark: plain MQTT.js clients running the protocol's node core
 * (CoreClient — no device model, no link model) with the same pairing, the same seeded Poisson
 * presses (node/'s press plan and press stream), and the same sync-latency tracker as a fleet run.
 * The clients run either in the broker's own thread, or sharded over worker threads the way a fleet
 * run places its nodes, started by sim/'s `start-presses` control.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import mqtt from "mqtt";
import { Piscina } from "piscina";
import { CoreClient } from "../node/mqtt-node.js";
import { runPressPlan } from "../node/presses.js";
import { nodeRandom } from "../node/rng.js";
import { RealScheduler, type Timer } from "../node/scheduler.js";
import { formatStamp, type NodeId, Prefix, type Stamp } from "../protocol/index.js";
import { SyncChecker } from "../sim/checker.js";
import type { Summary } from "../sim/histogram.js";
import type { ShardControl, ShardTask as SimShardTask } from "../sim/messages.js";
import { followersReach, type Pairing } from "../sim/topology.js";

export interface BaselineOptions {
  readonly url: string;
  readonly ids: readonly NodeId[];
  readonly pairing: Pairing;
  readonly ratePerNodePerMin: number;
  readonly durationS: number;
  readonly seed: string;
  /** 0: the clients run in this (the broker's) thread; N: sharded over N worker threads. */
  readonly workers: number;
}

export interface BaselineResult {
  readonly presses: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly sync: Summary;
}

export interface StampRecord {
  readonly kind: "press" | "applied";
  readonly node: NodeId;
  readonly stamp: Stamp;
  /** ms on the main thread's performance.now() clock. */
  readonly at: number;
}

const PREFIX = Prefix("tf");
const TAIL_MS = 5000;
/** The presses start this long after the signal, as a fleet run's do after its phase starts. */
const LEAD_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One group of plain clients: connect and sync, press on a seeded Poisson plan, record stamps. */
export class ClientShard {
  readonly records: StampRecord[] = [];
  private readonly clients: CoreClient[];
  private readonly presses: ((at: number) => void)[] = [];
  private readonly synced: Promise<void>[] = [];
  private readonly sched: RealScheduler;
  private plans: Timer[] = [];

  constructor(
    url: string,
    private readonly ids: readonly NodeId[],
    /** Milliseconds to add to this thread's performance.now() to get the main thread's clock. */
    clockOffset: number,
  ) {
    this.sched = new RealScheduler(-clockOffset);
    this.clients = ids.map((id) => {
      const c = new CoreClient({
        url,
        core: { id, prefix: PREFIX, kind: "sim", profile: "mqttjs", firmware: "1.0.0", syncGraceMs: 1500 },
        scheduler: this.sched,
      });
      let pressAt: number | undefined;
      let last = "";
      c.on("output", (out) => {
        if (out.type !== "publish" || out.topic !== `${PREFIX}/report/${id}`) return;
        const stamp = c.state.stamp;
        const key = formatStamp(stamp);
        if (key === last) return;
        last = key;
        if (stamp.origin === id && pressAt !== undefined) {
          this.records.push({ kind: "press", node: id, stamp, at: pressAt });
          pressAt = undefined;
        } else {
          this.records.push({ kind: "applied", node: id, stamp, at: this.sched.now() });
        }
      });
      this.presses.push((at) => {
        pressAt ??= at;
        c.press();
      });
      this.synced.push(new Promise((resolve) => c.once("synced", resolve)));
      return c;
    });
  }

  /** Resolves once every client is connected and synced. */
  async start(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.start()));
    await Promise.all(this.synced);
  }

  /** Presses each client on a fleet node's Poisson plan and stream; waits for the last deliveries. */
  async run(task: PressTask, go: StartPresses): Promise<StampRecord[]> {
    const rate = task.pressRatePerSec ?? 0;
    if (rate > 0) {
      const plan = { kind: "poisson", ratePerSec: rate, from: go.from, until: go.until } as const;
      // The stream a fleet node draws its first press plan from (SimNode.addPresses).
      this.plans = this.ids.map((id, i) =>
        runPressPlan(plan, this.sched, nodeRandom(`${task.seed}\u00000`, id, "press"), (at) =>
          this.presses[i]?.(at),
        ),
      );
    }
    await sleep(go.until - this.sched.now() + TAIL_MS);
    for (const p of this.plans) p.cancel();
    await Promise.all(this.clients.map((client) => client.stop()));
    return this.records;
  }
}

/** What a share of the baseline needs of a fleet shard's task: its ids, seed, press rate and clock. */
export type PressTask = Pick<SimShardTask, "ids" | "seed" | "pressRatePerSec" | "timeOrigin">;
/** A worker's share of the baseline: a fleet shard's task, with a broker URL instead of a device model. */
export type ShardTask = PressTask & Pick<SimShardTask, "port"> & { readonly url: string };
/** The signal that starts the presses: the fleet's own control. */
export type StartPresses = Extract<ShardControl, { type: "start-presses" }>;

function startPresses(durationS: number): StartPresses {
  const from = performance.now() + LEAD_MS;
  return { type: "start-presses", from, until: from + durationS * 1000 };
}

export async function runBaseline(o: BaselineOptions): Promise<BaselineResult> {
  const admin = await mqtt.connectAsync(o.url);
  for (const [f, sources] of o.pairing) {
    await admin.publishAsync(`${PREFIX}/config/${f}`, `C1 1 ${sources.join(" ")}`, { retain: true, qos: 1 });
  }
  await admin.endAsync();
  const records = o.workers > 0 ? await inWorkers(o) : await inThisThread(o);
  const tracker = new SyncChecker(followersReach(o.pairing));
  records.sort((a, b) => a.at - b.at);
  for (const r of records) {
    if (r.kind === "press") tracker.press(r);
    else tracker.applied(r);
  }
  tracker.finish();
  const c = tracker.counts();
  return { presses: c.presses, deliveries: c.deliveries, lost: c.lost, sync: tracker.latency.summary() };
}

async function inThisThread(o: BaselineOptions): Promise<StampRecord[]> {
  const shard = new ClientShard(o.url, o.ids, 0);
  await shard.start();
  return shard.run(pressTask(o, o.ids), startPresses(o.durationS));
}

async function inWorkers(o: BaselineOptions): Promise<StampRecord[]> {
  const pool = new Piscina({
    filename: new URL("./baseline-worker.ts", import.meta.url).href,
    execArgv: ["--import", "tsx"],
    minThreads: o.workers,
    maxThreads: o.workers,
    concurrentTasksPerWorker: 1,
  });
  try {
    const ports: MessagePort[] = [];
    const ready: Promise<unknown>[] = [];
    const results: Promise<StampRecord[]>[] = [];
    for (let s = 0; s < o.workers; s++) {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1);
      ready.push(new Promise((r) => port1.once("message", r)));
      const ids = o.ids.filter((_, i) => i % o.workers === s);
      const task: ShardTask = { ...pressTask(o, ids), url: o.url, port: port2 };
      results.push(pool.run(task, { transferList: [port2] }));
    }
    await Promise.all(ready);
    const go = startPresses(o.durationS);
    for (const p of ports) p.postMessage(go);
    const all = await Promise.all(results);
    for (const p of ports) p.close();
    return all.flat();
  } finally {
    await pool.destroy();
  }
}

function pressTask(o: BaselineOptions, ids: readonly NodeId[]): PressTask {
  return { ids, seed: o.seed, pressRatePerSec: o.ratePerNodePerMin / 60, timeOrigin: performance.timeOrigin };
}
