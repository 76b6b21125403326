/**
 * The fuzz soak (docs/benchmarks.md): `twinfleet broker` in its own process, fed generated MQTT
 * packet streams (bench/fuzz) over many connections at once for a while, as a healthy client
 * publishes QoS 1 to itself every 100 ms and times each round trip.
 *   npm run bench -- fuzz [--seconds 600] [--connections 100] [--seed soak] [--every 10]
 *                         [--verdict-ms 35000] [--settle-s 60] [--dist] [--broker-args "--max-packet-bytes 4096"]
 *                         [--broker-node-args "--cpu-prof --cpu-prof-dir /tmp/prof"] [--replay 17,4242]
 * Reports crashes (the process exiting), the broker's RSS, the healthy round trips, what was sent
 * and how the connections ended. A crash stops the run and names the scripts that were open then;
 * `--replay` runs exactly those (same seed) against a fresh broker.
 */
import { fork } from "node:child_process";
import { FuzzTally, runFuzz } from "../broker/test/fuzz/driver.js";
import { Distribution } from "../sim/histogram.js";
import { type BrokerExit, BrokerProcess } from "./fuzz/broker-process.js";
import type { HealthyReport } from "./fuzz/healthy-process.js";
import { arg, record } from "./record.js";

/** Round trips slower than this are listed with the time they were sent. */
const SLOW_MS = 50;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function positive(argv: string[], flag: string, fallback: string): number {
  const v = Number(arg(argv, flag, fallback));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} must be a positive number`);
  return v;
}

/** Least-squares slope of [seconds, MB] points, in MB per minute; null under 3 points. */
function slope(points: readonly (readonly [number, number])[]): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((a, [t]) => a + t, 0) / n;
  const my = points.reduce((a, [, v]) => a + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - mx) * (v - my);
    den += (t - mx) ** 2;
  }
  return den === 0 ? null : round((num / den) * 60, 2);
}

export async function fuzz(argv: string[]): Promise<void> {
  const seconds = positive(argv, "--seconds", "600");
  const connections = Math.round(positive(argv, "--connections", "100"));
  const every = positive(argv, "--every", "10");
  const verdictMs = positive(argv, "--verdict-ms", "35000");
  const settleS = positive(argv, "--settle-s", "60");
  const seed = arg(argv, "--seed", "soak");
  const brokerArgs = arg(argv, "--broker-args", "").split(" ").filter(Boolean);
  const nodeArgs = arg(argv, "--broker-node-args", "").split(" ").filter(Boolean);
  const replay = argv.includes("--replay")
    ? arg(argv, "--replay", "")
        .split(",")
        .map((s) => Number(s))
    : undefined;
  if (replay?.some((i) => !Number.isInteger(i) || i < 0))
    throw new Error("--replay takes script numbers: 17,4242");

  const stop = new AbortController();
  let crash: (BrokerExit & { atS: number; inFlight: number[] }) | undefined;
  const tally = new FuzzTally();
  const t0 = performance.now();
  const wallStart = Date.now();
  const elapsedS = () => (performance.now() - t0) / 1000;
  const broker = await BrokerProcess.start(
    brokerArgs,
    argv.includes("--dist"),
    (exit) => {
      crash = { ...exit, atS: round(elapsedS()), inFlight: [...tally.inFlight].sort((a, b) => a - b) };
      console.error(`fuzz: the broker exited (code ${exit.code}, signal ${exit.signal}): crash`);
      stop.abort();
    },
    nodeArgs,
  );
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const rssStart = broker.rssMB() ?? 0;
  let cpuLast = broker.cpuSeconds() ?? 0;
  const cpuStart = cpuLast;
  let rssMax = rssStart;
  const rssSeries: [number, number][] = [[0, round(rssStart)]];

  const all = new Distribution();
  /** Round trips over SLOW_MS: [seconds into the run it was sent, ms]. */
  const slow: [number, number][] = [];
  let window = new Distribution();
  let lost = 0;
  const healthyErrors: string[] = [];
  const healthy = fork(new URL("./fuzz/healthy-process.ts", import.meta.url).pathname, [url, "100"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // Round trips count while the fuzz runs, not during the settling after it.
  let measuring = true;
  const onReport = (m: HealthyReport | "ready") => {
    if (m === "ready" || !measuring) return;
    m.rtts.forEach((ms, i) => {
      all.record(ms);
      window.record(ms);
      if (ms > SLOW_MS && slow.length < 100)
        slow.push([round(((m.sentAt[i] ?? 0) - wallStart) / 1000, 2), round(ms)]);
    });
    lost += m.lost;
    for (const e of m.errors) if (healthyErrors.length < 10) healthyErrors.push(e);
  };
  healthy.on("message", onReport);
  const healthyExited = new Promise<void>((resolve) => healthy.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    healthy.once("exit", (code) =>
      reject(new Error(`the healthy client exited (code ${code}) before it connected`)),
    );
    healthy.once("message", (m) => (m === "ready" ? resolve() : undefined));
  });

  console.error(
    `fuzz: broker pid ${broker.pid} on ${url}, RSS ${round(rssStart)} MB; ${replay ? `replaying ${replay.length} scripts` : `${connections} connections for ${seconds} s`}, seed "${seed}"`,
  );
  const sampler = setInterval(() => {
    const rss = broker.rssMB();
    if (rss !== undefined) rssMax = Math.max(rssMax, rss);
  }, 1000);
  const progress = setInterval(() => {
    const rss = broker.rssMB();
    if (rss !== undefined) rssSeries.push([Math.round(elapsedS()), round(rss)]);
    const w = window.summary();
    const cpu = broker.cpuSeconds() ?? cpuLast;
    const cpuPct = ((cpu - cpuLast) / every) * 100;
    cpuLast = cpu;
    window = new Distribution();
    console.error(
      `fuzz: ${Math.round(elapsedS())} s: ${tally.connections} connections done (${tally.inFlight.size} open), ${tally.packets} packets, RSS ${rss === undefined ? "-" : round(rss)} MB (max ${round(rssMax)}), CPU ${Math.round(cpuPct)} %, round trip p50 ${round(w.p50, 2)} / p99 ${round(w.p99, 2)} / max ${round(w.max, 2)} ms (${w.count}), lost ${lost}, error logs ${broker.errorLines}`,
    );
  }, every * 1000);
  const timer = setTimeout(() => stop.abort(), seconds * 1000);

  await runFuzz(
    {
      host: "127.0.0.1",
      port: broker.port,
      seed,
      concurrency: replay ? 1 : connections,
      ...(replay ? { only: replay } : {}),
      signal: stop.signal,
      verdictMs,
      // All connections ramp up over the first second.
      rampMs: 1000 / connections,
    },
    tally,
  );
  const fuzzS = elapsedS();
  const brokerCpuPct = round((((broker.cpuSeconds() ?? cpuLast) - cpuStart) / fuzzS) * 100);
  measuring = false;
  clearTimeout(timer);
  clearInterval(progress);
  // Let the broker let go of what the last connections left: RSS 5 s after the load (`end`), then
  // the lowest it reaches while only the healthy client runs for --settle-s (`settled`), once V8's
  // memory reducer has returned what the load's garbage made it commit. A leak keeps `settled` up.
  await new Promise((r) => setTimeout(r, 5000));
  const rssEnd = broker.rssMB();
  let rssSettled = rssEnd;
  for (let s = 5; s < settleS; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    const rss = broker.rssMB();
    if (rss !== undefined) rssSettled = Math.min(rssSettled ?? rss, rss);
  }
  clearInterval(sampler);
  const lastTwoMinutes = rssSeries.filter(([t]) => t >= fuzzS - 120).map(([, mb]) => mb);
  const trough = rssSettled === undefined ? undefined : Math.min(rssSettled, ...lastTwoMinutes);
  healthy.send("stop");
  await healthyExited;
  await broker.stop();

  const rtt = all.summary();
  const result = {
    seed,
    seconds: round(fuzzS),
    connections,
    ...(replay ? { replay } : {}),
    brokerArgs,
    crashes: crash ? 1 : 0,
    ...(crash ? { crash } : {}),
    brokerExitOnStop: crash ? null : broker.exit,
    brokerCpuPct,
    brokerErrorLogs: broker.errorLines,
    brokerErrorSamples: broker.errorSamples,
    rssMB: {
      start: round(rssStart),
      max: round(rssMax),
      end: rssEnd === undefined ? null : round(rssEnd),
      settled: rssSettled === undefined ? null : round(rssSettled),
      /**
       * What the soak left behind: the lowest RSS of its last two minutes and the settle (a trough,
       * where a major GC has just run, is what retained memory shows as; a peak is garbage not yet
       * collected), over the idle RSS before it.
       */
      growth: trough === undefined ? null : round(trough - rssStart),
      settledGrowth: rssSettled === undefined ? null : round(rssSettled - rssStart),
      endGrowth: rssEnd === undefined ? null : round(rssEnd - rssStart),
      /** Least-squares slope of RSS over the soak's second half, MB per minute: a leak's signature. */
      slopeMBPerMin: slope(rssSeries.filter(([t]) => t >= fuzzS / 2)),
      maxGrowth: round(rssMax - rssStart),
    },
    rssSeries,
    roundTripMs: {
      count: rtt.count,
      p50: round(rtt.p50, 2),
      p90: round(rtt.p90, 2),
      p99: round(rtt.p99, 2),
      max: round(rtt.max, 2),
      lost,
      errors: healthyErrors,
      slow,
    },
    sent: {
      connections: tally.connections,
      packets: tally.packets,
      bytes: tally.bytesOut,
      connectionsPerS: round(tally.connections / fuzzS),
      packetsPerS: round(tally.packets / fuzzS),
    },
    received: { bytes: tally.bytesIn },
    scripts: tally.kinds,
    endings: tally.endings,
    verdicts: tally.verdicts,
    socketErrors: tally.errors,
  };
  console.error(
    `fuzz: ${result.crashes} crashes; RSS ${result.rssMB.start} → max ${result.rssMB.max} → end ${result.rssMB.end} → settled ${result.rssMB.settled} MB (growth ${result.rssMB.growth} MB at the last trough, second-half slope ${result.rssMB.slopeMBPerMin} MB/min); round trip p50 ${result.roundTripMs.p50} / p99 ${result.roundTripMs.p99} / max ${result.roundTripMs.max} ms, lost ${lost}; ${tally.connections} connections, ${tally.packets} packets; unanswered ${tally.verdicts.unanswered ?? 0}`,
  );
  record("fuzz", result);
  if (crash) process.exitCode = 1;
}
