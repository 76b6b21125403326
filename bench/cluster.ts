/**
 * A 3-member NATS cluster (MQTT on JetStream) for benchmarks: `startCluster()` runs
 * interop/cluster-main.ts as a child process (the harnesses do not import each other) and resolves
 * with the members' MQTT URLs once every member answers and JetStream has a leader. Members can be
 * killed, stopped and restarted for fault runs; close() stops them all. Needs the Debian package
 * nats-server (see docs/cluster.md).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { onStop } from "./scratch.js";

export interface BenchClusterMember {
  readonly name: string;
  readonly mqttUrl: string;
  /** The NATS member's monitoring endpoint; none for a broker sharing Redis. */
  readonly httpUrl?: string;
  /** The member's first process id (a restart starts another), for CPU figures. */
  readonly pid: number;
}

export interface BenchCluster {
  readonly urls: readonly string[];
  readonly members: readonly BenchClusterMember[];
  /** The cluster's other processes (the Redis server of the Redis cluster), for CPU figures. */
  readonly others: readonly { readonly name: string; readonly pid: number }[];
  kill(i: number): Promise<void>;
  stop(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  /** Kill Redis and start it again, empty (the Redis cluster only). */
  restartRedis(): Promise<void>;
  close(): Promise<void>;
}

const MAIN = new URL("../interop/cluster-main.ts", import.meta.url).pathname;

/**
 * `logs`: a file the members' logs are written to when the cluster closes. `kind`: a NATS cluster
 * (default) or twinfleet brokers sharing Redis (interop/redis-cluster.ts).
 */
export async function startCluster(
  opts: { members?: number; logs?: string; kind?: "nats" | "redis" } = {},
): Promise<BenchCluster> {
  const args = [
    ...(opts.kind === undefined ? [] : ["--kind", opts.kind]),
    ...(opts.members === undefined ? [] : ["--members", String(opts.members)]),
    ...(opts.logs === undefined ? [] : ["--logs", opts.logs]),
  ];
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  // Stopped by a signal, the bench stops the cluster and waits for it, from its start on: the
  // process stops its servers (a SIGKILL, or the bench gone before it, left them running).
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const forget = onStop(async () => {
    child.kill("SIGTERM");
    await exited;
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });

  const lines: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const queue: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  lines.on("line", (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  void exited.then(() => {
    for (const w of waiting.splice(0)) w(undefined);
  });
  const next = (): Promise<string | undefined> =>
    queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve));
  const first = await next();
  if (first === undefined) {
    forget();
    throw new Error(`the cluster did not start:\n${stderr}`);
  }
  const started = JSON.parse(first) as {
    urls: string[];
    members: BenchClusterMember[];
    others?: { name: string; pid: number }[];
  };
  const send = async (cmd: string) => {
    child.stdin?.write(`${cmd}\n`);
    const answer = await next();
    if (answer === undefined) throw new Error(`the cluster process exited during "${cmd}":\n${stderr}`);
    const r = JSON.parse(answer) as { ok: boolean; error?: string };
    if (!r.ok) throw new Error(`${cmd}: ${r.error}`);
  };
  return {
    urls: started.urls,
    members: started.members,
    others: started.others ?? [],
    kill: (i) => send(`kill ${i}`),
    stop: (i) => send(`stop ${i}`),
    restart: (i) => send(`restart ${i}`),
    restartRedis: () => send("restart-redis"),
    close: async () => {
      child.stdin?.end();
      await exited;
      forget();
    },
  };
}
