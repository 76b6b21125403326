/**
 * Shard benchmark: a fleet split over N real processes, merged.
 *   npm run bench -- shards [--shards 4] [--nodes 10000] [--duration 60] [--workers 1]
 *                           [--brokers mqtt://a:1883,mqtt://b:1883,… | --cluster [nats|redis]
 *                           [--members 3] [--cluster-logs FILE]
 *                           [--kill-member-at S | --restart-redis-at S]]
 * Starts N `twinfleet sim --shard K/N` child processes, shard K on broker K mod the list (round
 * robin over --brokers; with --cluster, over the members of a NATS cluster this starts (bench/
 * cluster.ts, docs/cluster.md), with --cluster redis over `twinfleet broker --redis` members sharing
 * one Redis; otherwise one `twinfleet broker` child process it starts), waits for them,
 * merges their shard reports and checks that the merged presses and deliveries are the shards' sums.
 * The record holds the CPU seconds and largest RSS of every shard and cluster member (from /proc,
 * sampled every second) and the load average at the start and the end. --cluster-logs FILE keeps
 * what the members logged, and the record counts its JetStream timeouts and refused subscriptions
 * (`memberLog`, docs/cluster.md). Faults, S seconds after the shards start, to count what a crash
 * loses: --kill-member-at S kills the first member (SIGKILL) and starts it again at once;
 * --restart-redis-at S (Redis cluster only) kills Redis and starts it again, empty.
 */
import { spawn } from "node:child_process";
import { join, resolve as resolvePath } from "node:path";
import { pino } from "pino";
import { UsageError } from "../cli/errors.js";
import { type BrokerHost, openBrokerHost } from "../fleet/broker-host.js";
import { brokerUrlProblem } from "../fleet/options.js";
import { mergeShards } from "../fleet/shard-merge.js";
import { readShardFile } from "../fleet/shard-report.js";
import { RealScheduler } from "../node/scheduler.js";
import { type BenchCluster, startCluster } from "./cluster.js";
import { countMemberLogFile } from "./member-log.js";
import { loadAverage, ProcSampler } from "./proc-cpu.js";
import { arg, numArg, record } from "./record.js";
import { removeScratch, scratchDir, trackChild } from "./scratch.js";

const CLI = new URL("../cli/bin.ts", import.meta.url).pathname;

function runShard(args: readonly string[], k: number, procs: ProcSampler): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = trackChild(
      spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] }),
    );
    procs.add(`shard-${k}`, p.pid);
    let tail = "";
    p.stderr.on("data", (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      process.stderr.write(s);
    });
    p.on("error", reject);
    p.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`shard ${k} exited with ${code}:\n${tail}`)),
    );
  });
}

/** `--cluster` alone is a NATS cluster (as before there was a choice); `--cluster redis` is the other. */
function clusterKind(argv: readonly string[]): "nats" | "redis" | undefined {
  const at = argv.indexOf("--cluster");
  if (at < 0) return undefined;
  const next = argv[at + 1];
  if (next === "nats" || next === "redis") return next;
  if (next === undefined || next.startsWith("--")) return "nats";
  throw new UsageError(`--cluster: nats or redis, got ${JSON.stringify(next)}`);
}

interface Fault {
  readonly what: "kill-member" | "restart-redis";
  readonly atS: number;
}

function faultArg(argv: readonly string[], kind: "nats" | "redis" | undefined): Fault | undefined {
  const kill = argv.includes("--kill-member-at");
  const redis = argv.includes("--restart-redis-at");
  if (kill && redis) throw new UsageError("--kill-member-at and --restart-redis-at: one fault a run");
  if (!kill && !redis) return undefined;
  if (kind === undefined) throw new UsageError("--kill-member-at, --restart-redis-at: only with --cluster");
  if (redis && kind !== "redis") throw new UsageError("--restart-redis-at: only with --cluster redis");
  const what = kill ? "kill-member" : "restart-redis";
  const atS = numArg([...argv], `--${what}-at`, 0);
  if (!(atS > 0)) throw new UsageError(`--${what}-at: a number of seconds > 0, got ${atS}`);
  return { what, atS };
}

/** Runs the fault at its time; `stop()` cancels it if it has not begun, else waits for it to end. */
function scheduleFault(cluster: BenchCluster, fault: Fault, started: number) {
  let running: Promise<void> | undefined;
  let doneAt: number | undefined;
  const timer = setTimeout(() => {
    console.error(`shards: fault ${fault.what} at ${fault.atS} s`);
    const run =
      fault.what === "kill-member" ? cluster.kill(0).then(() => cluster.restart(0)) : cluster.restartRedis();
    running = run
      .then(() => {
        doneAt = (performance.now() - started) / 1000;
        console.error(`shards: fault ${fault.what} over at ${doneAt.toFixed(1)} s`);
      })
      .catch((err: Error) => console.error(`shards: fault ${fault.what} failed: ${err.message}`));
  }, fault.atS * 1000);
  return {
    stop: async () => {
      clearTimeout(timer);
      await running;
    },
    doneAtS: () => (doneAt === undefined ? undefined : Math.round(doneAt * 10) / 10),
  };
}

export async function shards(argv: string[]): Promise<void> {
  const n = numArg(argv, "--shards", 4);
  const nodes = numArg(argv, "--nodes", 10_000);
  const duration = numArg(argv, "--duration", 60);
  const workers = numArg(argv, "--workers", 1);
  const given = arg(argv, "--brokers", "");
  const brokers = given === "" ? [] : given.split(",").map((s) => s.trim());
  for (const b of brokers) {
    const problem = brokerUrlProblem(b);
    if (problem !== undefined) throw new UsageError(`--brokers: ${problem}, got ${JSON.stringify(b)}`);
  }
  const kind = clusterKind(argv);
  const clustered = kind !== undefined;
  const fault = faultArg(argv, kind);
  const logs = arg(argv, "--cluster-logs", "");
  if (!clustered && argv.includes("--cluster-logs"))
    throw new UsageError("--cluster-logs: only with --cluster (the members' logs of the cluster it starts)");
  let own: BrokerHost | undefined;
  let cluster: BenchCluster | undefined;
  const procs = new ProcSampler();
  const loadAtStart = loadAverage();
  if (clustered) {
    if (brokers.length > 0) throw new UsageError("--cluster starts its own brokers: drop --brokers");
    cluster = await startCluster({
      kind,
      members: numArg(argv, "--members", 3),
      ...(logs === "" ? {} : { logs: resolvePath(logs) }),
    });
    brokers.push(...cluster.urls);
    for (const m of [...cluster.members, ...cluster.others]) procs.add(m.name, m.pid);
    const what = kind === "redis" ? "brokers sharing Redis" : "NATS cluster";
    console.error(`shards: ${what} of ${cluster.urls.length}: ${cluster.urls.join(" ")}`);
  } else if (brokers.length === 0) {
    own = await openBrokerHost({
      process: true,
      logger: pino({ level: "silent" }),
      scheduler: new RealScheduler(),
    });
    brokers.push(own.url);
  }
  const dir = scratchDir("tf-bench-shards-");
  const files = Array.from({ length: n }, (_, i) => join(dir, `shard-${i + 1}.json`));
  const started = performance.now();
  let used: ReturnType<ProcSampler["stop"]>;
  let loadAtEnd: number | undefined;
  const faultTimer =
    fault === undefined || cluster === undefined ? undefined : scheduleFault(cluster, fault, started);
  try {
    await Promise.all(
      files.map((file, i) =>
        runShard(
          [
            "sim",
            "--shard",
            `${i + 1}/${n}`,
            "--broker",
            brokers[i % brokers.length] as string,
            "--nodes",
            String(nodes),
            "--topology",
            "ring",
            "--group-size",
            "8",
            "--rate",
            "1",
            "--duration",
            String(duration),
            "--settle",
            "10",
            "--seed",
            "bench",
            "--workers",
            String(workers),
            "--progress-every",
            "10",
            "--shard-report",
            file,
          ],
          i + 1,
          procs,
        ),
      ),
    );
  } finally {
    await faultTimer?.stop();
    loadAtEnd = loadAverage();
    used = procs.stop();
    await own?.close();
    await cluster?.close();
  }
  const memberLog = logs === "" ? undefined : countMemberLogFile(resolvePath(logs));
  const wallS = (performance.now() - started) / 1000;
  const parts = files.map((f) => readShardFile(f));
  removeScratch(dir);
  const merged = mergeShards(files, parts);
  const pressSum = parts.reduce((s, p) => s + p.counts.presses, 0);
  const deliverySum = merged.shards.lines.reduce((s, l) => s + l.deliveries, 0);
  const checks = {
    pressesAreTheSum: merged.presses === pressSum,
    deliveriesAreTheSum: merged.deliveries === deliverySum,
    sameFleetInEveryShard: new Set(parts.map((p) => p.fleet.fingerprint)).size === 1,
  };
  record("shards", {
    shards: n,
    nodes,
    durationS: duration,
    workersPerShard: workers,
    brokers: brokers.length,
    brokerKind: own ? "process" : cluster ? `${kind}-cluster` : "given",
    ...(fault === undefined ? {} : { fault: { ...fault, doneAtS: faultTimer?.doneAtS() } }),
    wallS: Math.round(wallS),
    presses: merged.presses,
    deliveries: merged.deliveries,
    crossShardPairs: merged.shards.crossShardPairs,
    sync: merged.sync,
    crossShardSync: merged.shards.crossShardSync,
    lost: merged.lost,
    lostForGood: merged.lostForGood,
    diverged: merged.diverged,
    registration: {
      p50Ms: merged.registration.p50Ms,
      maxMs: merged.registration.maxMs,
      registered: merged.registration.registered,
    },
    offsetUncertaintyMaxMs: merged.shards.offsetUncertaintyMaxMs,
    // The bound on a latency across shards (docs/shards.md, "Clock offsets"): the table's column.
    crossShardErrorMaxMs: merged.shards.crossShardErrorMaxMs,
    perShard: merged.shards.lines.map(({ file: _f, ...l }) => l),
    rssMBPerShard: parts.map((p) => p.sim.rssMB),
    processes: used,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    ...(memberLog === undefined ? {} : { memberLog }),
    requirements: merged.requirements,
    checks,
  });
  if (!Object.values(checks).every(Boolean)) {
    console.error(`shards: check failed: ${JSON.stringify(checks)}`);
    process.exitCode = 1;
  }
}
