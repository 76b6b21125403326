/**
 * A NATS server cluster with MQTT on every member, for the interop tests and the shard benchmarks:
 * N members (default 3) of the Debian `nats-server` on free loopback ports, each with its own
 * config file and JetStream store in a temp dir, joined by cluster routes. Ready once every member's
 * JetStream names the same meta leader and every MQTT listener completes a handshake (CONNACK).
 * Members can be stopped (SIGTERM), killed (SIGKILL) and started again on the same ports and store.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { accepts, exited, freePorts } from "./ports.js";
import { findSystemBinary } from "./system-bin.js";

export interface ClusterOptions {
  /** Members, an odd number ≥ 1 (JetStream needs a majority); default 3. */
  readonly members?: number;
  /** MQTT `ack_wait`: how long a QoS 1 delivery waits for its PUBACK before it is sent again. */
  readonly ackWait?: string;
  /** MQTT `max_ack_pending`: QoS 1 deliveries in flight per subscription. */
  readonly maxAckPending?: number;
  /**
   * MQTT `consumer_replicas`: copies of each QoS 1 subscription's JetStream consumer. Default 1:
   * a subscription then costs one store write, not a replicated one (see docs/cluster.md).
   */
  readonly consumerReplicas?: number;
  /** MQTT `consumer_memory_storage`: keep those consumers in memory. Default true. */
  readonly consumerMemoryStorage?: boolean;
  /**
   * MQTT `stream_replicas`: copies of the MQTT streams (`$MQTT_msgs`, `$MQTT_rmsgs`, `$MQTT_sess`).
   * Left out, NATS picks one per member up to 3 (see docs/cluster.md).
   */
  readonly streamReplicas?: number;
  /** Log at debug level (`-D`: JetStream API errors, consumer and stream events); default info. */
  readonly debug?: boolean;
  /** How long start (and each restart) may take; default 45 s. */
  readonly timeoutMs?: number;
}

export interface ClusterMember {
  readonly name: string;
  readonly mqttUrl: string;
  readonly mqttPort: number;
  /** The member's monitoring endpoint (`/jsz`, `/connz`, `/healthz`). */
  readonly httpUrl: string;
  running(): boolean;
  /** The member's process id while it runs (for CPU figures), else undefined. */
  pid(): number | undefined;
}

export interface NatsCluster {
  readonly members: readonly ClusterMember[];
  /** The members' MQTT URLs, in member order. */
  readonly urls: readonly string[];
  /** What member `i` logged so far (all of it when `i` is left out), for failure messages. */
  log(i?: number): string;
  /** SIGTERM member `i` and wait for it to exit (SIGKILL after 10 s). */
  stop(i: number): Promise<void>;
  /** SIGKILL member `i` (no goodbye to its clients or peers) and wait for it to exit. */
  kill(i: number): Promise<void>;
  /** Start a stopped member again (same ports, same store) and wait until it is back in the cluster. */
  restart(i: number): Promise<void>;
  /** Stop every member (SIGTERM, SIGKILL after 10 s) and delete the temp dir. */
  close(): Promise<void>;
}

/** How long a member may take to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** The NATS server binary (Debian's package nats-server). */
export function findNatsServer(dirs?: readonly string[]): string {
  return findSystemBinary("nats-server", "nats-server", dirs);
}

/** A member's `/jsz` answer (JetStream state), parsed; undefined when it does not answer. */
function jsz(httpUrl: string, query = ""): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const req = get(`${httpUrl}/jsz${query}`, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.once("error", () => resolve(undefined));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** The JetStream meta leader member `httpUrl` knows of, or undefined (no answer, no leader yet). */
export async function metaLeader(httpUrl: string): Promise<string | undefined> {
  const meta = (await jsz(httpUrl))?.meta_cluster as { leader?: string } | undefined;
  return meta?.leader === "" ? undefined : meta?.leader;
}

/**
 * The leader of every stream member `httpUrl` holds a copy of, by stream name: the MQTT streams
 * (`$MQTT_msgs`, `$MQTT_rmsgs`, `$MQTT_sess`, …) are created on the first MQTT connection.
 */
export async function streamLeaders(httpUrl: string): Promise<Record<string, string>> {
  type Detail = { name: string; cluster?: { leader?: string } };
  const accounts = ((await jsz(httpUrl, "?accounts=true&streams=true"))?.account_details ?? []) as {
    stream_detail?: Detail[];
  }[];
  const out: Record<string, string> = {};
  for (const s of accounts.flatMap((a) => a.stream_detail ?? [])) out[s.name] = s.cluster?.leader ?? "";
  return out;
}

/**
 * Whether an MQTT client gets its CONNACK from the listener at `port` within `timeoutMs`. The first
 * connection to a fresh cluster creates the MQTT streams; on a busy host that can fail (the server
 * closes the connection), so readiness waits for a handshake that succeeds.
 */
export function handshake(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
    });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      c.removeAllListeners();
      c.on("error", () => {});
      c.end(true);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    c.once("connect", () => done(true));
    c.once("close", () => done(false));
    c.once("error", () => done(false));
  });
}

interface Ports {
  readonly client: number;
  readonly route: number;
  readonly mqtt: number;
  readonly http: number;
}

/** The config file of member `name`: its own ports and store, routes to every member. */
export function memberConfig(
  name: string,
  ports: Ports,
  storeDir: string,
  routes: readonly number[],
  opts: Pick<
    ClusterOptions,
    "ackWait" | "maxAckPending" | "consumerReplicas" | "consumerMemoryStorage" | "streamReplicas"
  >,
): string {
  return [
    `server_name: ${name}`,
    `listen: 127.0.0.1:${ports.client}`,
    `http: 127.0.0.1:${ports.http}`,
    `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
    "cluster {",
    "  name: twinfleet",
    `  listen: 127.0.0.1:${ports.route}`,
    `  routes: [${routes.map((p) => `nats-route://127.0.0.1:${p}`).join(", ")}]`,
    "}",
    "mqtt {",
    `  listen: 127.0.0.1:${ports.mqtt}`,
    `  ack_wait: ${JSON.stringify(opts.ackWait ?? "30s")}`,
    `  max_ack_pending: ${opts.maxAckPending ?? 1024}`,
    `  consumer_replicas: ${opts.consumerReplicas ?? 1}`,
    `  consumer_memory_storage: ${opts.consumerMemoryStorage ?? true}`,
    ...(opts.streamReplicas === undefined ? [] : [`  stream_replicas: ${opts.streamReplicas}`]),
    "}",
    "",
  ].join("\n");
}

export async function startCluster(opts: ClusterOptions = {}): Promise<NatsCluster> {
  const n = opts.members ?? 3;
  if (!Number.isInteger(n) || n < 1 || n % 2 === 0)
    throw new Error(`members must be an odd whole number ≥ 1 (JetStream needs a majority), got ${n}`);
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const bin = findNatsServer();
  const dir = await mkdtemp(join(tmpdir(), "twinfleet-nats-"));
  const flat = await freePorts(4 * n);
  const ports: Ports[] = Array.from({ length: n }, (_, i) => ({
    client: flat[4 * i] as number,
    route: flat[4 * i + 1] as number,
    mqtt: flat[4 * i + 2] as number,
    http: flat[4 * i + 3] as number,
  }));
  const names = ports.map((_, i) => `m${i + 1}`);
  const confs: string[] = [];
  for (const [i, p] of ports.entries()) {
    const store = join(dir, names[i] as string);
    await mkdir(store);
    const conf = join(dir, `${names[i]}.conf`);
    const routes = ports.map((q) => q.route);
    await writeFile(conf, memberConfig(names[i] as string, p, store, routes, opts));
    confs.push(conf);
  }
  const logs = names.map(() => "");
  const children: (ChildProcess | undefined)[] = names.map(() => undefined);
  const launch = (i: number) => {
    // Logs go to stderr; the default (info) names leaders, routes and failed stores, -D adds debug lines.
    const args = ["-c", confs[i] as string, ...(opts.debug === true ? ["-D"] : [])];
    const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (chunk: Buffer) => {
      logs[i] += chunk.toString();
    });
    children[i] = child;
  };
  const running = (i: number) => {
    const c = children[i];
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  };
  const members: ClusterMember[] = names.map((name, i) => ({
    name,
    mqttUrl: `mqtt://127.0.0.1:${ports[i]?.mqtt}`,
    mqttPort: ports[i]?.mqtt as number,
    httpUrl: `http://127.0.0.1:${ports[i]?.http}`,
    running: () => running(i),
    pid: () => (running(i) ? children[i]?.pid : undefined),
  }));
  const log = (i?: number) =>
    i === undefined ? names.map((name, j) => `--- ${name}\n${logs[j]}`).join("\n") : (logs[i] ?? "");
  const end = async (i: number, signal: NodeJS.Signals) => {
    const c = children[i];
    if (c === undefined) return;
    if (running(i)) c.kill(signal);
    // A member left alone after a run of 2,500 clients did not exit on SIGTERM within 40 s.
    const timer = setTimeout(() => {
      if (running(i)) c.kill("SIGKILL");
    }, STOP_GRACE_MS);
    await exited(c);
    clearTimeout(timer);
  };
  const close = async () => {
    await Promise.all(names.map((_, i) => end(i, "SIGTERM")));
    await rm(dir, { recursive: true, force: true });
  };
  /** Every running member listed in `which` accepts MQTT and names the same meta leader. */
  const ready = async (which: readonly number[]) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const dead = which.filter((i) => !running(i));
      if (dead.length > 0)
        throw new Error(
          `nats-server ${dead.map((i) => names[i]).join(", ")} exited while starting:\n${log()}`,
        );
      const up = await Promise.all(which.map((i) => accepts(ports[i]?.mqtt as number)));
      const leaders = await Promise.all(which.map((i) => metaLeader(members[i]?.httpUrl as string)));
      const agreed = up.every(Boolean) && leaders[0] !== undefined && leaders.every((l) => l === leaders[0]);
      if (agreed) {
        const shakes = await Promise.all(which.map((i) => handshake(ports[i]?.mqtt as number, 10_000)));
        if (shakes.every(Boolean)) return;
      }
      if (performance.now() > deadline)
        throw new Error(
          `the nats-server cluster was not ready within ${timeoutMs} ms (MQTT up: ${up}, meta leaders: ${leaders}):\n${log()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  for (const i of names.keys()) launch(i);
  try {
    await ready(names.map((_, i) => i));
  } catch (err) {
    await close();
    throw err;
  }
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= n)
      throw new Error(`no member ${i}: the cluster has members 0…${n - 1}`);
  };
  return {
    members,
    urls: members.map((m) => m.mqttUrl),
    log,
    stop: async (i) => {
      check(i);
      await end(i, "SIGTERM");
    },
    kill: async (i) => {
      check(i);
      await end(i, "SIGKILL");
    },
    restart: async (i) => {
      check(i);
      if (running(i)) throw new Error(`member ${names[i]} is running; stop or kill it first`);
      launch(i);
      await ready(names.map((_, j) => j).filter((j) => running(j)));
    },
    close,
  };
}
