/**
 * A cluster of twinfleet brokers sharing one Redis server, for the interop tests and the shard
 * benchmarks: the Debian `redis-server` on a free loopback port, in memory only (`--save ""
 * --appendonly no`: a Redis restart starts empty, docs/cluster.md), and N (default 3) `twinfleet
 * broker --redis` processes on free loopback ports. Ready once Redis answers and every member has
 * logged its `listening on` line and completes an MQTT handshake: the wait follows each process, so a
 * slow host only makes it longer, while a member that exits while starting fails it at once, with
 * what it logged. Members and Redis can be stopped (SIGTERM), killed (SIGKILL) and started again on
 * the same ports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startable } from "../node/paths.js";
import { type ClusterMember, handshake } from "./cluster.js";
import { accepts, exited, freePorts } from "./ports.js";
import { findSystemBinary } from "./system-bin.js";

export interface RedisClusterOptions {
  /** Brokers sharing the Redis server; default 3. */
  readonly members?: number;
  /**
   * How long start (and each restart) may take before it counts as hung; default 120 s. A start on
   * an idle host takes about 2 s, 30 s was seen at load 31; a process that exits fails it at once.
   */
  readonly timeoutMs?: number;
  /** Redis's password (`--requirepass`), then in the members' `--redis` URL; default none. */
  readonly password?: string;
  /** More arguments for every member's `twinfleet broker` command line. */
  readonly brokerArgs?: readonly string[];
}

/** A broker of the cluster: as a NATS member, without the monitoring endpoint. */
export type RedisClusterMember = Omit<ClusterMember, "httpUrl">;

export interface RedisCluster {
  readonly members: readonly RedisClusterMember[];
  /** The members' MQTT URLs, in member order. */
  readonly urls: readonly string[];
  readonly redisUrl: string;
  /** Redis's process id while it runs, else undefined. */
  redisPid(): number | undefined;
  /** What member `i` logged so far (all of it, Redis's included, when `i` is left out). */
  log(i?: number): string;
  /** SIGTERM member `i` and wait for it to exit (SIGKILL after 10 s). */
  stop(i: number): Promise<void>;
  /** SIGKILL member `i` (no goodbye to its clients, its wills stay in Redis) and wait for it to exit. */
  kill(i: number): Promise<void>;
  /** Start a stopped member again on the same port and wait until it answers. */
  restart(i: number): Promise<void>;
  /** SIGKILL Redis (everything it held is gone) and start it again, empty, on the same port. */
  restartRedis(): Promise<void>;
  /** Stop every member, then Redis (SIGTERM, SIGKILL after 10 s). */
  close(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
/** The default limit on a start: past it the start counts as hung. */
export const START_LIMIT_MS = 120_000;
/** A test hook's limit for starting a cluster: the start's own, and time to report it. */
export const START_HOOK_MS = START_LIMIT_MS + 10_000;
/** Node's arguments that start the CLI (the sources under tsx, or compiled: node/paths.ts). */
const CLI = ((cli) => [...cli.execArgv, fileURLToPath(cli.url)])(startable("cli/bin"));

/** The Redis server binary (Debian's package redis-server). */
export function findRedisServer(dirs?: readonly string[]): string {
  return findSystemBinary("redis-server", "redis-server", dirs);
}

/** What a member logs once its listeners are bound (cli/bind.ts). */
const LISTENING = /twinfleet broker listening on /;

/** A child process with its output kept, and a way to end it. */
class Child {
  proc: ChildProcess | undefined;
  log = "";
  /** Settles once this start's output holds `readyLine` (true) or the process exited (false). */
  started: Promise<boolean> = Promise.resolve(false);
  constructor(
    private readonly cmd: string,
    private readonly args: readonly string[],
    private readonly readyLine?: RegExp,
  ) {}
  start(): void {
    const p = spawn(this.cmd, this.args, { stdio: ["ignore", "pipe", "pipe"] });
    let since = "";
    let ready: (ok: boolean) => void = () => {};
    this.started = new Promise((resolve) => {
      ready = resolve;
    });
    const keep = (chunk: Buffer) => {
      // The tail is what explains a failure; a 10,000-node run must not grow it without bound.
      this.log = (this.log + chunk.toString()).slice(-200_000);
      if (this.readyLine === undefined) return;
      // Only this start's output: a restarted member's log still holds the previous start's line.
      since = (since + chunk.toString()).slice(-20_000);
      if (this.readyLine.test(since)) ready(true);
    };
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    // "close": after the output is read to its end, so the log explains the exit.
    p.once("close", () => ready(false));
    p.once("error", () => ready(false));
    this.proc = p;
  }
  running(): boolean {
    const p = this.proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }
  async end(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (p === undefined) return;
    if (this.running()) p.kill(signal);
    const timer = setTimeout(() => {
      if (this.running()) p.kill("SIGKILL");
    }, STOP_GRACE_MS);
    await exited(p);
    clearTimeout(timer);
  }
}

export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
  const n = opts.members ?? 3;
  if (!Number.isInteger(n) || n < 1) throw new Error(`members must be a whole number ≥ 1, got ${n}`);
  const timeoutMs = opts.timeoutMs ?? START_LIMIT_MS;
  const bin = findRedisServer();
  const [redisPort, ...mqttPorts] = (await freePorts(n + 1)) as [number, ...number[]];
  const auth = opts.password === undefined ? "" : `:${encodeURIComponent(opts.password)}@`;
  const redisUrl = `redis://${auth}127.0.0.1:${redisPort}`;
  // Its own empty directory: Redis reads a dump.rdb from its working directory even with saving off.
  const dir = await mkdtemp(join(tmpdir(), "twinfleet-redis-"));
  const redis = new Child(bin, [
    "--dir",
    dir,
    "--port",
    String(redisPort),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    // Every node is a client of its member, not of Redis: 3 connections per member are enough.
    "--maxclients",
    "1000",
    ...(opts.password === undefined ? [] : ["--requirepass", opts.password]),
  ]);
  const names = mqttPorts.map((_, i) => `b${i + 1}`);
  const brokers = mqttPorts.map(
    (port) =>
      new Child(
        process.execPath,
        [
          ...CLI,
          "broker",
          "--host",
          "127.0.0.1",
          "--port",
          String(port),
          "--redis",
          redisUrl,
          ...(opts.brokerArgs ?? []),
        ],
        LISTENING,
      ),
  );
  const log = (i?: number) =>
    i === undefined
      ? [`--- redis\n${redis.log}`, ...names.map((name, j) => `--- ${name}\n${brokers[j]?.log}`)].join("\n")
      : (brokers[i]?.log ?? "");
  const waitFor = async (what: string, ok: () => Promise<boolean>, alive: () => string[]) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const dead = alive();
      if (dead.length > 0) throw new Error(`${dead.join(", ")} exited while starting:\n${log()}`);
      if (await ok()) return;
      if (performance.now() > deadline)
        throw new Error(`${what} not ready within ${timeoutMs} ms:\n${log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const redisUp = () =>
    waitFor(
      "redis-server",
      () => accepts(redisPort),
      () => (redis.running() ? [] : ["redis-server"]),
    );
  // Each member's own word that it listens, or its exit (reported at once, with what it logged);
  // then one MQTT handshake each, to be sure the listener answers.
  const brokersUp = async (which: readonly number[]) => {
    const what = `broker ${which.map((i) => names[i]).join(", ")}`;
    const deadline = performance.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<"hung">((resolve) => {
      timer = setTimeout(() => resolve("hung"), timeoutMs);
    });
    try {
      const outcome = await Promise.race([
        Promise.all(
          which.map(async (i) => {
            if (!(await brokers[i]?.started)) throw new Error(`${names[i]} exited while starting`);
          }),
        ),
        hung,
      ]);
      if (outcome === "hung") throw new Error(`${what} not listening within ${timeoutMs} ms`);
    } catch (err) {
      throw new Error(`${(err as Error).message}:\n${log()}`);
    } finally {
      clearTimeout(timer);
    }
    await waitFor(
      what,
      async () =>
        (
          await Promise.all(
            which.map((i) => handshake(mqttPorts[i] as number, Math.max(5000, deadline - performance.now()))),
          )
        ).every(Boolean),
      () => which.filter((i) => !brokers[i]?.running()).map((i) => names[i] as string),
    );
  };
  const close = async () => {
    await Promise.all(brokers.map((b) => b.end("SIGTERM")));
    await redis.end("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  };
  try {
    redis.start();
    await redisUp();
    for (const b of brokers) b.start();
    await brokersUp(names.map((_, i) => i));
  } catch (err) {
    await close();
    throw err;
  }
  const member = (i: number): Child => {
    const b = brokers[i];
    if (!Number.isInteger(i) || b === undefined)
      throw new Error(`no member ${i}: the cluster has members 0…${n - 1}`);
    return b;
  };
  const members: RedisClusterMember[] = names.map((name, i) => ({
    name,
    mqttUrl: `mqtt://127.0.0.1:${mqttPorts[i]}`,
    mqttPort: mqttPorts[i] as number,
    running: () => member(i).running(),
    pid: () => (member(i).running() ? member(i).proc?.pid : undefined),
  }));
  return {
    members,
    urls: members.map((m) => m.mqttUrl),
    redisUrl,
    redisPid: () => (redis.running() ? redis.proc?.pid : undefined),
    log,
    stop: (i) => member(i).end("SIGTERM"),
    kill: (i) => member(i).end("SIGKILL"),
    restart: async (i) => {
      if (member(i).running()) throw new Error(`member ${names[i]} is running; stop or kill it first`);
      member(i).start();
      await brokersUp([i]);
    },
    restartRedis: async () => {
      await redis.end("SIGKILL");
      redis.start();
      await redisUp();
    },
    close,
  };
}
