/**
 * The NATS cluster of interop/cluster.ts (or, with `--kind redis`, the brokers sharing Redis of
 * interop/redis-cluster.ts) as a process, for benchmarks and manual runs that must not import the
 * interop harness: `node --import tsx interop/cluster-main.ts [--kind nats|redis] [--members N]
 * [--logs FILE]` starts the cluster, prints one JSON line `{"urls":[…],"members":[{name,mqttUrl,httpUrl,pid}],"others":[{name,pid}]}` on stdout, then
 * takes commands on stdin, one a line — `kill I`, `stop I`, `restart I` — answering each with a
 * JSON line `{"ok":true}` or `{"ok":false,"error":"…"}`; the Redis cluster also takes
 * `restart-redis` (Redis killed and started again, empty). SIGTERM, SIGINT or the end of stdin stop
 * every member and delete the temp dir; with `--logs FILE` the members' logs (each after a
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

async function main(): Promise<void> {
  let opts: ReturnType<typeof flags>;
  try {
    opts = flags(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const cluster: AnyCluster =
    opts.kind === "redis"
      ? await startRedisCluster({ members: opts.members })
      : await startCluster({ members: opts.members });
  const lines = createInterface({ input: process.stdin });
  let closing: Promise<void> | undefined;
  const close = () => {
    // The logs are written before the members stop: what a stop logs is not needed, a hang is.
    if (opts.logs !== undefined && closing === undefined) writeFileSync(opts.logs, cluster.log());
    closing ??= cluster.close();
    // Ends the command loop below, which would otherwise wait for another line.
    lines.close();
    return closing;
  };
  process.once("SIGTERM", () => void close());
  process.once("SIGINT", () => void close());
  process.stdout.write(
    `${JSON.stringify({
      urls: cluster.urls,
      members: cluster.members.map((m) => ({
        name: m.name,
        mqttUrl: m.mqttUrl,
        ...("httpUrl" in m ? { httpUrl: m.httpUrl } : {}),
        pid: m.pid(),
      })),
      // Other processes of the cluster, for CPU figures: the Redis server the brokers share.
      others: cluster.redisPid ? [{ name: "redis", pid: cluster.redisPid() }] : [],
    })}\n`,
  );
  for await (const line of lines) {
    if (closing) break;
    try {
      await command(cluster, line);
      process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message })}\n`);
    }
  }
  await close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
