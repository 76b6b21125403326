/**
 * What the web server costs a fleet: a simulated run (default 5,000 nodes, presses at a rate that
 * makes about 100 twin changes a second) once without the server and once with it, an event-stream
 * client connected and reading, and the node list fetched every few seconds. Figures: the main
 * thread's event-loop lag p99 of each run (side by side, and as a ratio), `/api/nodes` response time
 * for every node, and the event hub's batch passes (the diff of the fleet's snapshot every 50 ms).
 *   npm run bench -- web [--nodes 5000] [--duration 30] [--rate 1.2]
 * `simWithServer` and `readEvents` are exported for other benches (the page's render timings).
 */
import { request } from "node:http";
import type { FleetOptions } from "../fleet/options.js";
import { FleetRun } from "../fleet/run.js";
import { simFigures } from "../view/figures.js";
import { SimSource } from "../view/sim-source.js";
import { newToken, startWebServer, type WebServer } from "../web/index.js";
import { numArg, record } from "./record.js";

export interface SimWithServer {
  readonly run: FleetRun;
  readonly server: WebServer;
  readonly token: string;
  close(): Promise<void>;
}

/** A run with the web server over it on a free loopback port. */
export async function simWithServer(options: FleetOptions): Promise<SimWithServer> {
  const run = await FleetRun.start(options);
  const source = new SimSource(run);
  const token = newToken();
  const server = await startWebServer({
    source,
    kind: "sim",
    port: 0,
    token,
    scheduler: run.sched,
    figures: simFigures(run),
  });
  return {
    run,
    server,
    token,
    async close() {
      await server.close();
      source.close();
    },
  };
}

/** Reads the event stream, counting events by name and bytes; `stop()` ends it. */
export function readEvents(origin: string): {
  counts: Record<string, number>;
  bytes: () => number;
  stop(): void;
} {
  const counts: Record<string, number> = {};
  let bytes = 0;
  const req = request(`${origin}/api/events`, (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      bytes += chunk.length;
      for (const m of chunk.matchAll(/^event: (\w+)$/gm))
        counts[m[1] as string] = (counts[m[1] as string] ?? 0) + 1;
    });
    res.on("error", () => {});
  });
  req.on("error", () => {});
  req.end();
  return { counts, bytes: () => bytes, stop: () => req.destroy() };
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function timeNodes(origin: string): Promise<{ ms: number; bytes: number; nodes: number }> {
  const t0 = performance.now();
  const res = await fetch(`${origin}/api/nodes`);
  const text = await res.text();
  const ms = performance.now() - t0;
  return { ms, bytes: text.length, nodes: (JSON.parse(text) as { total: number }).total };
}

async function once(options: FleetOptions, withServer: boolean) {
  if (!withServer) {
    const run = await FleetRun.start(options);
    const r = await run.done;
    return {
      withServer,
      mainLagP99Ms: r.sim.mainLagP99Ms,
      workerLagP99Ms: r.sim.workerLagP99Ms,
      lagMaxMs: r.sim.lagMaxMs,
      syncP99Ms: r.sync.p99Ms,
      keptUp: r.sim.keptUp,
    };
  }
  const s = await simWithServer(options);
  const events = readEvents(s.server.origin);
  const listTimes: number[] = [];
  let listBytes = 0;
  let listNodes = 0;
  let busy = false;
  const poll = setInterval(() => {
    if (busy || s.run.phase !== "press") return;
    busy = true;
    void timeNodes(s.server.origin).then((t) => {
      listTimes.push(t.ms);
      listBytes = t.bytes;
      listNodes = t.nodes;
      busy = false;
    });
  }, 3000);
  const r = await s.run.done;
  clearInterval(poll);
  events.stop();
  const hub = s.server.hub.stats;
  await s.close();
  const sorted = [...listTimes].sort((a, b) => a - b);
  return {
    withServer,
    mainLagP99Ms: r.sim.mainLagP99Ms,
    workerLagP99Ms: r.sim.workerLagP99Ms,
    lagMaxMs: r.sim.lagMaxMs,
    syncP99Ms: r.sync.p99Ms,
    keptUp: r.sim.keptUp,
    apiNodes: {
      requests: sorted.length,
      nodes: listNodes,
      bytes: listBytes,
      p50Ms: quantile(sorted, 0.5),
      maxMs: sorted.at(-1) ?? 0,
    },
    events: { ...events.counts, bytes: events.bytes() },
    batches: {
      passes: hub.passes,
      nodesCompared: hub.lastPassNodes,
      meanPassMs: hub.passes > 0 ? hub.totalPassMs / hub.passes : 0,
      maxPassMs: hub.maxPassMs,
      nodesSent: hub.nodesSent,
    },
  };
}

export async function web(argv: string[]): Promise<void> {
  const nodes = numArg(argv, "--nodes", 5000);
  const durationS = numArg(argv, "--duration", 30);
  const rate = numArg(argv, "--rate", 1.2);
  const options: FleetOptions = {
    nodes,
    ratePerNodePerMin: rate,
    durationS,
    settleS: 5,
    seed: "web",
    groupSize: 8,
  };
  const without = await once(options, false);
  const withIt = await once(options, true);
  record("web", {
    nodes,
    durationS,
    ratePerNodePerMin: rate,
    without,
    with: withIt,
    mainLagP99RatioWithOverWithout:
      without.mainLagP99Ms > 0 ? withIt.mainLagP99Ms / without.mainLagP99Ms : null,
    mainLagP99AddedMs: withIt.mainLagP99Ms - without.mainLagP99Ms,
  });
}
