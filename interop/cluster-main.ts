/**
 * The NATS cluster of interop/cluster.ts (or, with `--kind redis`, the brokers sharing Redis of
 * interop/redis-cluster.ts) as a process, for benchmarks and manual runs that must not import the
 * interop harness: `node --import tsx interop/cluster-main.ts [--kind nats|redis] [--members N]
 * [--logs FILE]` starts the cluster, prints one JSON line `{"urls":[…],"members":[{name,mqttUrl,httpUrl,pid}],"others":[{name,pid}]}` on stdout, then
 * takes commands on stdin, one a line — `kill I`, `stop I`, `restart I` — answering each with a
 * JSON line `{"ok":true}` or `{"ok":false,"error":"…"}`; the Redis cluster also takes
 * `restart-redis` (Redis killed and started again, empty). SIGTERM, SIGINT, SIGHUP or the end of
 * stdin stop every member and delete the temp dir, also while the cluster is starting (once it has); with `--logs FILE` the members' logs (each after a
 * `--- mN` line) are written to FILE first. Errors go to stderr; exit code 1 when the cluster fails to
 * start, 2 on a bad flag.
 */
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { type NatsCluster, startCluster } from "./cluster.js";
import { type RedisCluster, startRedisCluster } from "./redis-cluster.js";

const USAGE = "usage: cluster-main.ts [--kind nats|redis] [--members N] [--logs FILE]";

type AnyCluster = Pick<NatsCluster, "urls" | "log" | "kill" | "stop" | "restart" | "close"> & {
  readonly members: readonly (NatsCluster["members"][number] | RedisCluster["members"][number])[];
  restartRedis?: () => Promise<void>;
  redisPid?: () => number | undefined;
};

/** `--kind` (default nats), `--members N` (default 3), `--logs FILE` (the members' logs, written when it stops). */
function flags(argv: readonly string[]): { kind: "nats" | "redis"; members: number; logs?: string } {
  const out: { kind: "nats" | "redis"; members: number; logs?: string } = { kind: "nats", members: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--kind" && (value === "nats" || value === "redis")) out.kind = value;
    else if (flag === "--members" && /^[0-9]+$/.test(value ?? "")) out.members = Number(value);
    else if (flag === "--logs" && value !== undefined && value !== "") out.logs = value;
    else throw new Error(`${USAGE} (got: ${argv.join(" ")})`);
  }
  return out;
}

async function command(cluster: AnyCluster, line: string): Promise<void> {
  if (line.trim() === "restart-redis" && cluster.restartRedis) return cluster.restartRedis();
  const m = /^(kill|stop|restart) ([0-9]+)$/.exec(line.trim());
  if (!m) throw new Error(`unknown command ${JSON.stringify(line)}: expected kill I, stop I or restart I`);
  const i = Number(m[2]);
  if (m[1] === "kill") await cluster.kill(i);
  else if (m[1] === "stop") await cluster.stop(i);
  else await cluster.restart(i);
}

/**
 * Stops the cluster on SIGTERM, SIGINT or SIGHUP, and at the end of stdin (whoever drove it is gone).
 * The NATS members take SIGHUP for a reload, so a closed terminal left them running, parented to
 * init, when this process died of it; and a stop asked for while the cluster starts is carried out
 * once it has started (it used to leave every member running: no handler was there yet).
 */
const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

async function main(): Promise<void> {
  let opts: ReturnType<typeof flags>;
  try {
    opts = flags(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const lines = createInterface({ input: process.stdin });
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  lines.on("line", (line) => {
    queue.push(line);
    wake?.();
  });
  lines.once("close", stop);
  for (const s of STOP_SIGNALS) process.on(s, stop);
  // A reader gone (the bench ended): what is left to say is dropped; the members are still stopped.
  process.stdout.on("error", () => {});
  const say = (o: unknown) => {
    if (!stopping) process.stdout.write(`${JSON.stringify(o)}\n`);
  };
  const cluster: AnyCluster =
    opts.kind === "redis"
      ? await startRedisCluster({ members: opts.members })
      : await startCluster({ members: opts.members });
  say({
    urls: cluster.urls,
    members: cluster.members.map((m) => ({
      name: m.name,
      mqttUrl: m.mqttUrl,
      ...("httpUrl" in m ? { httpUrl: m.httpUrl } : {}),
      pid: m.pid(),
    })),
    // Other processes of the cluster, for CPU figures: the Redis server the brokers share.
    others: cluster.redisPid ? [{ name: "redis", pid: cluster.redisPid() }] : [],
  });
  while (!stopping) {
    const line = queue.shift();
    if (line === undefined) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
      continue;
    }
    try {
      await command(cluster, line);
      say({ ok: true });
    } catch (err) {
      say({ ok: false, error: (err as Error).message });
    }
  }
  // The logs are written before the members stop: what a stop logs is not needed, a hang is.
  if (opts.logs !== undefined) writeFileSync(opts.logs, cluster.log());
  await cluster.close();
  lines.close();
  for (const s of STOP_SIGNALS) process.off(s, stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
