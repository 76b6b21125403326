/**
 * A wrong-password flood against `twinfleet broker --auth` in its own process: 400 connections from
 * one address (127.0.0.9) send CONNECT with a wrong password at once; meanwhile a valid login from
 * another address (127.0.0.2) is timed, and a client connected beforehand (127.0.0.1) keeps timing
 * its round trip (a QoS 0 publish to itself every 10 ms): while the flood is answered, and over the
 * first second from its start. Then `--silent` sockets from one address send nothing and one from
 * another sends half a CONNECT: when does the broker let them go? `--cli` runs another checkout's CLI, e.g.
 * an older one, for a before/after comparison.
 *   npm run bench -- login-flood [--flood 400] [--silent 1000] [--cli cli/bin.ts]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { connectAsync, type MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { hashPassword } from "../broker/credentials.js";
import { arg, numArg, record } from "./record.js";
import { removeScratch, scratchDir, trackChild } from "./scratch.js";

const FLOOD_FROM = "127.0.0.9";
const VALID_FROM = "127.0.0.2";
const SILENT_FROM = "127.0.0.8";
const HALF_FROM = "127.0.0.7";

export async function loginFlood(argv: string[]): Promise<void> {
  const flood = numArg(argv, "--flood", 400);
  const silent = numArg(argv, "--silent", 1000);
  const cli = resolve(arg(argv, "--cli", "cli/bin.ts"));
  const dir = scratchDir("login-flood-");
  const auth = join(dir, "credentials.json");
  writeFileSync(
    auth,
    JSON.stringify({ users: { ctl: { role: "control", password: await hashPassword("right") } } }),
  );
  const { child, port } = await spawnBroker(cli, auth);
  trackChild(child);
  let watcher: MqttClient | undefined;
  try {
    watcher = await connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: "ctl",
      password: "right",
      clientId: "watcher",
      reconnectPeriod: 0,
    });
    const rtt = roundTrips(watcher);
    await watcher.subscribeAsync("bench/rt");
    rtt.start();
    await delay(1000);
    const before = rtt.take();

    const sockets = await Promise.all(Array.from({ length: flood }, () => socketTo(port, FLOOD_FROM)));
    const floodStart = performance.now();
    const answers = sockets.map((s) => connack(s));
    for (const [i, s] of sockets.entries()) s.write(connectPacket(`flood-${i}`, "wrong"));
    const validStart = performance.now();
    const validSocket = await socketTo(port, VALID_FROM);
    const validAnswered = connack(validSocket);
    validSocket.write(connectPacket("valid", "right"));
    const validAnswer = await validAnswered;
    const validMs = performance.now() - validStart;
    const codes = await Promise.all(answers);
    const floodMs = performance.now() - floodStart;
    const during = rtt.take();
    // A fixed window as well: the flood lasts seconds on a broker that hashes every password.
    if (floodMs < 1000) await delay(1000 - floodMs + 200);
    const firstSecond = [...during, ...rtt.take()].filter((x) => x.sentAt - floodStart < 1000);
    rtt.stop();
    for (const s of [...sockets, validSocket]) s.destroy();

    const held = await silentSockets(port, silent);
    const count = (c: number | "closed") => codes.filter((x) => x === c).length;
    record("login-flood", {
      cli,
      flood,
      validLogin: { returnCode: validAnswer, ms: round(validMs) },
      floodAnswered: {
        ms: round(floodMs),
        badCredentials: count(4),
        refused: count(5),
        closed: count("closed"),
      },
      roundTripBefore: stats(before),
      roundTripDuring: stats(during),
      roundTripFirstSecond: stats(firstSecond),
      silentSockets: held,
      watcherConnected: watcher.connected,
    });
  } finally {
    await watcher?.endAsync(true);
    child.kill("SIGTERM");
    removeScratch(dir);
  }
}

function spawnBroker(cli: string, auth: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", cli, "broker", "--host", "127.0.0.1", "--port", "0", "--auth", auth],
    { cwd: resolve(cli, "../.."), stdio: ["ignore", "ignore", "pipe"] },
  );
  return new Promise((ok, fail) => {
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`broker printed no mqtt:// URL within 30 s: ${err}`));
    }, 30_000);
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      // The first mqtt:// URL the broker prints, however its start-up line is worded.
      const m = /mqtt:\/\/[^\s:/]+:(\d+)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      ok({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`broker exited (${code}): ${err}`));
    });
  });
}

function socketTo(port: number, localAddress: string): Promise<Socket> {
  return new Promise((ok, fail) => {
    const s = connectTcp({ port, host: "127.0.0.1", localAddress }, () => ok(s));
    s.once("error", fail);
    s.on("error", () => {});
  });
}

/**
 * `n` sockets from one address that send nothing, and one from another that sends half a CONNECT:
 * how many the broker closed within a second, and when it closed the last one and the half CONNECT.
 */
async function silentSockets(port: number, n: number) {
  const started = performance.now();
  // Each socket's close is awaited from the moment it exists: the broker may close it at accept.
  const open = (from: string, since: number) => {
    const s = connectTcp({ port, host: "127.0.0.1", localAddress: from });
    s.on("error", () => {});
    const closed = new Promise<number>((ok) => {
      const guard = setTimeout(() => ok(Number.POSITIVE_INFINITY), 60_000);
      s.once("close", () => {
        clearTimeout(guard);
        ok(performance.now() - since);
      });
    });
    return { s, closed };
  };
  const silent = Array.from({ length: n }, () => open(SILENT_FROM, started));
  const half = open(HALF_FROM, performance.now());
  half.s.once("connect", () => half.s.write(connectPacket("half", "right").subarray(0, 12)));
  const times = await Promise.all(silent.map((x) => x.closed));
  const halfMs = await half.closed;
  for (const x of [...silent, half]) x.s.destroy();
  const finite = times.filter((t) => Number.isFinite(t));
  return {
    sockets: n,
    closedWithin1s: times.filter((t) => t < 1000).length,
    notClosedIn60s: n - finite.length,
    lastClosedMs: round(Math.max(0, ...finite)),
    halfConnectClosedMs: round(halfMs),
  };
}

function connack(s: Socket): Promise<number | "closed"> {
  return new Promise((ok) => {
    let got = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got[0] === 0x20) ok(got[3] ?? -1);
    });
    s.once("close", () => ok("closed"));
  });
}

function connectPacket(clientId: string, password: string): Buffer {
  return mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clientId,
    clean: true,
    keepalive: 60,
    username: "ctl",
    password: Buffer.from(password),
  });
}

interface Sample {
  readonly sentAt: number;
  readonly ms: number;
}

/** Publishes to itself every 10 ms and records each message's round trip. */
function roundTrips(c: MqttClient) {
  let samples: Sample[] = [];
  let timer: NodeJS.Timeout | undefined;
  c.on("message", (_topic, payload) => {
    const sentAt = Number(payload.toString());
    samples.push({ sentAt, ms: performance.now() - sentAt });
  });
  return {
    start() {
      timer = setInterval(() => c.publish("bench/rt", String(performance.now())), 10);
    },
    stop() {
      clearInterval(timer);
    },
    take(): Sample[] {
      const out = samples;
      samples = [];
      return out;
    },
  };
}

function stats(samples: readonly Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const q = (p: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN);
  return { n: sorted.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: round(sorted.at(-1) ?? Number.NaN) };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
