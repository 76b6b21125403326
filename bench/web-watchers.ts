/**
 * What watchers cost a live fleet's control server: `twinfleet broker`, `twinfleet twins --http` and
 * `twinfleet sim` as processes of their own, as an operator runs them; once the fleet is up, 0, 1, 10
 * and 50 plain event-stream clients (reading) in turn, each phase `--phase` seconds, and for each the
 * service's CPU and resident memory (from its own /metrics), and the bytes per second each client
 * reads. Then `/api/nodes` (every node) five times, its size and time, and `--herd` pages reconnecting
 * together — each opens the stream and reads `/api/nodes` at once — while a thread of its own times
 * `/healthz` every 20 ms: how long the service's main thread was held.
 *   npm run bench -- web-watchers [--nodes 5000] [--rate 1] [--warmup 20] [--phase 12] [--herd 50]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { Worker } from "node:worker_threads";
import { cliArgs } from "../node/test/cli-command.js";
import { ROOT, startBrokerProcess, startTwinsProcess } from "../web/test/browser/harness.js";
import { percentile } from "./calibrate-table.js";
import { numArg, record } from "./record.js";
import { onStop, removeScratch, scratchDir, trackChild } from "./scratch.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (v: number) => Math.round(v * 10) / 10;

/** The service's CPU seconds so far and resident memory (MB), from its /metrics. */
async function serviceFigures(origin: string): Promise<{ cpuS: number; rssMB: number }> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return {
    cpuS: get("twinfleet_process_cpu_seconds_total"),
    rssMB: r1(get("twinfleet_process_resident_memory_bytes") / 2 ** 20),
  };
}

/** `n` event-stream clients that read everything; `bytes()` so far, `close()`. */
function streams(origin: string, n: number): { bytes: () => number; close: () => void } {
  let bytes = 0;
  const reqs = Array.from({ length: n }, () => {
    const req = request(`${origin}/api/events`, (res) => {
      res.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      res.on("error", () => {});
    });
    req.on("error", () => {});
    req.end();
    return req;
  });
  return {
    bytes: () => bytes,
    close: () => {
      for (const r of reqs) r.destroy();
    },
  };
}

/** Times GET `url` every 20 ms in a thread of its own until stopped; resolves to the times (ms). */
function prober(url: string): { stop: () => Promise<number[]> } {
  const w = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
    const times = []; let on = true;
    parentPort.on("message", () => { on = false; });
    (async () => {
      while (on) {
        const t = performance.now();
        try { await (await fetch(workerData)).text(); } catch {}
        times.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
      parentPort.postMessage(times);
    })();`,
    { eval: true, workerData: url },
  );
  return {
    stop: () =>
      new Promise((resolve) => {
        w.once("message", (t: number[]) => {
          void w.terminate();
          resolve(t);
        });
        w.postMessage("stop");
      }),
  };
}

export async function webWatchers(argv: string[]): Promise<void> {
  const nodes = numArg(argv, "--nodes", 5000);
  const rate = numArg(argv, "--rate", 1);
  const warmupS = numArg(argv, "--warmup", 20);
  const phaseS = numArg(argv, "--phase", 12);
  const herd = numArg(argv, "--herd", 50);
  const counts = [0, 1, 10, 50];
  const durationS = Math.ceil(warmupS + counts.length * (phaseS + 3) + 10);
  const data = scratchDir("tf-bench-watchers-");
  const broker = await startBrokerProcess();
  const twins = await startTwinsProcess(broker.brokerUrl, data);
  const origin = twins.httpOrigin;
  const sim: ChildProcess = trackChild(
    spawn(
      process.execPath,
      [
        ...cliArgs(),
        ...["sim", "--broker", broker.brokerUrl, "--nodes", String(nodes), "--workers", "2"],
        ...["--rate", String(rate), "--duration", String(durationS), "--headless"],
      ],
      { cwd: ROOT, stdio: "ignore" },
    ),
  );
  const cleanUp = async () => {
    sim.kill("SIGKILL");
    await twins.stop();
    await broker.stop();
    removeScratch(data);
  };
  const off = onStop(cleanUp);
  try {
    await sleep(warmupS * 1000);
    const phases = [];
    for (const n of counts) {
      const s = streams(origin, n);
      await sleep(2000);
      const a = await serviceFigures(origin);
      const b0 = s.bytes();
      const t0 = performance.now();
      await sleep(phaseS * 1000);
      const b = await serviceFigures(origin);
      const dt = (performance.now() - t0) / 1000;
      phases.push({
        clients: n,
        serviceCpuPct: r1(((b.cpuS - a.cpuS) / dt) * 100),
        serviceRssMB: b.rssMB,
        bytesPerSecPerClient: n > 0 ? Math.round((s.bytes() - b0) / dt / n) : 0,
      });
      s.close();
      await sleep(1000);
    }
    const listMs: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      listBytes = (await (await fetch(`${origin}/api/nodes`)).arrayBuffer()).byteLength;
      listMs.push(r1(performance.now() - t));
    }
    const probe = prober(`${origin}/healthz`);
    await sleep(500);
    const herdStreams = streams(origin, herd);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: herd }, async () => (await fetch(`${origin}/api/nodes`)).arrayBuffer()),
    );
    const herdMs = performance.now() - t0;
    await sleep(500);
    const held = (await probe.stop()).sort((x, y) => x - y);
    herdStreams.close();
    record("web-watchers", {
      nodes,
      ratePerNodePerMin: rate,
      phases,
      apiNodes: { bytes: listBytes, ms: listMs },
      herd: {
        pages: herd,
        allReadMs: Math.round(herdMs),
        healthzP50Ms: r1(percentile(held, 0.5)),
        healthzP99Ms: r1(percentile(held, 0.99)),
        healthzMaxMs: r1(held.at(-1) ?? 0),
      },
    });
  } finally {
    off();
    await cleanUp();
  }
}
