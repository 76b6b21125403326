/**
 * What the web server costs a fleet: a simulated run (default 5,000 nodes, presses at a rate that
 * makes about 100 twin changes a second) once without the server and once with it, an event-stream
 * client connected and reading, and the node list fetched every 3 s, both from a process of their own
 * (bench/web-client.ts), as a browser would be. Figures: the main
 * thread's event-loop lag p99 of each run (side by side, and as a ratio), `/api/nodes` response time
 * for every node, and the event hub's batch passes (the diff of the fleet's snapshot every 50 ms).
 *   npm run bench -- web [--nodes 5000] [--duration 30] [--rate 1.2] [--repeat 1]
 * `simWithServer` and `startClient` are exported for other benches (the page's timings); the event
 * stream reader is bench/web-events.ts.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FleetOptions } from "../fleet/options.js";
import type { Report } from "../fleet/report.js";
import { FleetRun } from "../fleet/run.js";
import { simFigures } from "../view/figures.js";
import { SimSource } from "../view/sim-source.js";
import { newToken, startWebServer, type WebServer } from "../web/index.js";
import { median, numArg, record } from "./record.js";

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

/**
 * Starts the client process (bench/web-client.ts) and resolves once it is ready; `connect(origin)`
 * points it at a server, `stop()` resolves to its figures.
 */
export async function startClient(
  everyMs = 3000,
): Promise<{ connect(origin: string): void; stop(): Promise<Record<string, unknown>> }> {
  const script = fileURLToPath(new URL("./web-client.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, String(everyMs)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  const ready = new Promise<void>((resolve) => {
    child.stdout.on("data", (s: string) => {
      out += s;
      if (out.startsWith("ready\n")) resolve();
    });
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await ready;
  return {
    connect(origin: string) {
      child.stdin.write(`${origin}\n`);
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      return JSON.parse(out.slice("ready\n".length).trim() || "{}") as Record<string, unknown>;
    },
  };
}

/** What each run reports, with or without the server: the threads' lag and the sync tail. */
function runFigures(r: Report) {
  return {
    mainLagP99Ms: r.sim.mainLagP99Ms,
    workerLagP99Ms: r.sim.workerLagP99Ms,
    lagMaxMs: r.sim.lagMaxMs,
    syncP99Ms: r.sync.p99Ms,
    keptUp: r.sim.keptUp,
  };
}

async function once(options: FleetOptions, withServer: boolean) {
  if (!withServer) {
    const run = await FleetRun.start(options);
    return { withServer, ...runFigures(await run.done) };
  }
  const client = await startClient();
  const s = await simWithServer(options);
  client.connect(s.server.origin);
  const r = await s.run.done;
  const seen = await client.stop();
  const hub = s.server.hub.stats;
  await s.close();
  return {
    withServer,
    ...runFigures(r),
    ...seen,
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
  // Pairs of runs, without then with, so that a busy host's drift falls on both alike.
  const repeat = numArg(argv, "--repeat", 1);
  const options: FleetOptions = {
    nodes,
    ratePerNodePerMin: rate,
    durationS,
    settleS: 5,
    seed: "web",
    groupSize: 8,
  };
  const without: Awaited<ReturnType<typeof once>>[] = [];
  const withIt: Awaited<ReturnType<typeof once>>[] = [];
  for (let i = 0; i < repeat; i++) {
    without.push(await once(options, false));
    withIt.push(await once(options, true));
  }
  const a = median(without.map((r) => r.mainLagP99Ms));
  const b = median(withIt.map((r) => r.mainLagP99Ms));
  record("web", {
    nodes,
    durationS,
    ratePerNodePerMin: rate,
    repeat,
    without,
    with: withIt,
    mainLagP99MedianMs: { without: a, with: b },
    mainLagP99RatioWithOverWithout: a > 0 ? b / a : null,
    mainLagP99AddedMs: b - a,
  });
}
