/**
 * `twinfleet broker` at its open-files limit (`ulimit -n`, lowered in the shell that starts it), with
 * more clients than it has files for: it keeps files for itself, so a new connection to `/metrics`
 * and `/healthz` is answered, a retained message is still stored, its descriptors stay under the
 * limit, the clients past the line are refused and counted, and the log says so. Before, the
 * operating system closed every new connection unanswered once the clients took the last file, the
 * scrape's own too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqttPacket from "mqtt-packet";
import { afterEach, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";

const LIMIT = 160;
const CLIENTS = 220;

const dirs: string[] = [];
const children: ChildProcess[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Resolves with the first match of `re` in what the stream has printed so far and prints next. */
function waitFor(out: { text: string; on(cb: () => void): void }, re: RegExp, what: string) {
  return new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} in:\n${out.text}`)), 60_000);
    const look = () => {
      const m = re.exec(out.text);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    out.on(look);
    look();
  });
}

/**
 * An MQTT client on a raw socket: whether its CONNECT was answered, or its connection closed first
 * (or neither within 15 s).
 */
function client(port: number, id: string): Promise<{ socket: Socket; connected: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    const timer = setTimeout(() => resolve({ socket, connected: false }), 15_000);
    const done = (connected: boolean) => {
      clearTimeout(timer);
      resolve({ socket, connected });
    };
    socket.on("error", () => {});
    socket.once("data", (d: Buffer) => done(d[0] === 0x20));
    socket.once("close", () => done(false));
    socket.write(
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: id,
        clean: true,
        keepalive: 0,
      }),
    );
  });
}

it("keeps files for /metrics, /healthz and its store when its clients reach the open-files limit", async () => {
  const dir = await mkdtemp(join(tmpdir(), "broker-open-files-"));
  dirs.push(dir);
  const broker = spawn(
    "bash",
    [
      "-c",
      `ulimit -n ${LIMIT}; exec ${cliCommand()} broker --host 127.0.0.1 --port 0 --data "${join(dir, "d")}" --http 127.0.0.1:0`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(broker);
  const listeners: (() => void)[] = [];
  const out = { text: "", on: (cb: () => void) => listeners.push(cb) };
  const take = (d: Buffer) => {
    out.text += d.toString();
    for (const l of listeners) l();
  };
  broker.stdout?.on("data", take);
  broker.stderr?.on("data", take);
  const port = Number((await waitFor(out, /listening on 127\.0\.0\.1:(\d+)/, "MQTT port"))[1]);
  const http = (await waitFor(out, /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/, "metrics URL"))[1];

  const results = [];
  for (let i = 0; i < CLIENTS; i += 20) {
    results.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => client(port, `c${i + j}`)))));
  }
  const connected = results.filter((r) => r.connected);
  expect(connected.length).toBeGreaterThan(50);
  expect(connected.length).toBeLessThan(CLIENTS);

  // A new connection to the broker's own HTTP port is answered, and says what was refused.
  const get = (path: string) => fetch(`${http}${path}`, { signal: AbortSignal.timeout(15_000) });
  const metrics = await (await get("/metrics")).text();
  const refused = Number(/connections_refused_total\{reason="open-files"\} (\d+)/.exec(metrics)?.[1]);
  expect(refused).toBe(CLIENTS - connected.length);
  const open = Number(/^twinfleet_process_open_fds (\d+)/m.exec(metrics)?.[1]);
  expect(open).toBeLessThan(LIMIT);
  expect((await get("/healthz")).status).toBe(200);

  // The store still takes a write: a retained QoS 1 message is acknowledged once stored.
  const publisher = connected[0]?.socket;
  if (!publisher) throw new Error("no client connected");
  const acked = new Promise<number>((resolve) => publisher.once("data", (d: Buffer) => resolve(d[0] ?? 0)));
  publisher.write(
    mqttPacket.generate({
      cmd: "publish",
      topic: "t/kept",
      payload: Buffer.from("on"),
      qos: 1,
      messageId: 1,
      retain: true,
      dup: false,
    }),
  );
  expect(await acked).toBe(0x40);

  // The log says the line was reached, what it keeps and what the refusals are counted as.
  await waitFor(out, /reached its open-files limit less the 16 files it keeps for itself/, "ERROR line");
  expect(out.text).toContain('twinfleet_broker_connections_refused_total{reason="open-files"}');
  if (broker.pid === undefined) throw new Error("no pid");
  expect((await readdir(`/proc/${broker.pid}/fd`)).length).toBeLessThan(LIMIT);
}, 120_000);
