/**
 * Start, stop and what goes wrong around them: bound ports, clean shutdown of every socket, a port
 * in use, option messages that name the field, the injected logger, and the CLI entry point.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBrokerCommand } from "../command.js";
import { parseBrokerCommandOptions, resolveBrokerOptions } from "../options.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, closed, connectPacket, once, rawSocket, runningBrokerCommand } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-life-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("start and stop", () => {
  it("closes connected clients and sockets that never sent CONNECT, once", async () => {
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const c = await client(broker.url, { clientId: "c1" });
    const silent = await rawSocket(broker.port); // aedes alone would wait for its connect timeout
    const clientGone = once(c, "close");
    await Promise.all([broker.close(), broker.close()]);
    await Promise.all([clientGone, closed(silent)]);
    await expect(rawSocket(broker.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await closeAll(c);
  });

  it("listens with a backlog a booting fleet fits in (the kernel's cap, not Node's 511)", async () => {
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    try {
      // A listening socket's Send-Q in `ss` is its backlog.
      const line = execFileSync("ss", ["-Hltn", `sport = :${broker.port}`])
        .toString()
        .trim();
      const backlog = Number(line.split(/\s+/)[2]);
      const cap = Number(await readFile("/proc/sys/net/core/somaxconn", "utf8"));
      expect(backlog).toBe(Math.min(4096, cap));
    } finally {
      await broker.close();
    }
  });

  it("says which port is in use, and leaves nothing open behind a failed start", async () => {
    const first = await startBroker({ host: "127.0.0.1", port: 0 });
    await expect(startBroker({ host: "127.0.0.1", port: first.port })).rejects.toThrow(
      `port ${first.port} on 127.0.0.1 is in use (MQTT listener)`,
    );
    // The WebSocket port fails after the store and the MQTT port are open: both must be released,
    // which the LevelDB lock on the data dir shows.
    const data = join(dir, "store");
    await expect(
      startBroker({ host: "127.0.0.1", port: 0, wsPort: first.port, dataDir: data }),
    ).rejects.toThrow(`port ${first.port} on 127.0.0.1 is in use (WebSocket listener)`);
    const again = await startBroker({ host: "127.0.0.1", port: 0, dataDir: data });
    await expect(startBroker({ host: "127.0.0.1", port: 0, dataDir: data })).rejects.toThrow(
      /^data directory .* cannot be opened as a LevelDB store: .*lock.*; another broker process holds it \(`fuser -v DIR\/LOCK` names it\): stop that one, or give another --data$/,
    );
    await Promise.all([again.close(), first.close()]);
  });
});

describe("bad clients", () => {
  let broker: RunningBroker;
  const lines: { msg: string; level: number }[] = [];
  beforeAll(async () => {
    const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    broker = await startBroker({ host: "127.0.0.1", port: 0, maxPacketBytes: 256, logger });
  });
  afterAll(() => broker.close());

  it("survives garbage, a bad protocol version and a cut packet, and logs them", async () => {
    const garbage = await rawSocket(broker.port);
    garbage.write(Buffer.from([0x00, 0x02, 0xde, 0xad])); // packet type 0 is reserved
    const v9 = await rawSocket(broker.port);
    v9.write(
      Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x09, 0x02, 0x00, 0x3c, 0x00, 0x00]),
    );
    // [MQTT-3.1.2-2] it is answered CONNACK 0x01 before the close, which shows once that is read.
    const v9Answer: Buffer[] = [];
    v9.on("data", (chunk: Buffer) => v9Answer.push(chunk));
    const big = await rawSocket(broker.port);
    big.write(connectPacket("big"));
    big.write(Buffer.from([0x30, 0x80, 0x02])); // 256-byte body: 259 bytes in all
    for (const s of [garbage, v9, big]) s.on("error", () => {});
    await Promise.all([closed(garbage), closed(v9), closed(big)]);
    expect(Buffer.concat(v9Answer).toString("hex")).toBe("20020001");

    const ok = await client(broker.url, { clientId: "ok" });
    expect(ok.connected).toBe(true);
    await closeAll(ok);
    expect(lines.filter((l) => l.msg === "connection cut: packet limit")).toHaveLength(1);
    expect(lines.filter((l) => l.msg === "client error").length).toBeGreaterThanOrEqual(1);
  });
});

describe("options", () => {
  it.each([
    [{ port: 70000 }, "options.port must be an integer port 0-65535"],
    [{ port: 1.5 }, "options.port must be an integer port 0-65535"],
    [{ maxPacketBytes: 100 }, "options.maxPacketBytes must be at least 256"],
    [{ drainTimeoutMs: 0 }, "options.drainTimeoutMs must be at least 1 ms"],
    [{ maxQueuedBytes: 1.5 }, "options.maxQueuedBytes must be an integer number of bytes"],
    [{ maxQueuedBytes: 100 }, "options.maxQueuedBytes must be at least 256"],
    [
      { maxQueuedBytes: 1000 },
      "options.maxQueuedBytes must be at least maxPacketBytes (65536): one largest packet must fit",
    ],
    [{ tls: { port: 0, keyFile: "", certFile: "c" } }, "options.tls.keyFile must not be empty"],
    [{ staleWillGraceMs: -1 }, "options.staleWillGraceMs must be"],
    [{ staleWillGraceMs: 0.5 }, "options.staleWillGraceMs must be a whole number of milliseconds"],
  ])("names the field of %o", (options, message) => {
    expect(() => resolveBrokerOptions(options)).toThrow(message);
  });

  it("fills in the defaults", () => {
    expect(resolveBrokerOptions({})).toMatchObject({
      host: "0.0.0.0",
      port: 1883,
      maxPacketBytes: 65536,
      maxQueuedBytes: 4 * 1024 * 1024,
      drainTimeoutMs: 10_000,
      staleWillGraceMs: 20_000,
    });
    expect(resolveBrokerOptions({ maxPacketBytes: 512, maxQueuedBytes: 512 }).maxQueuedBytes).toBe(512);
  });

  it.each([
    [{ port: "abc" }, '--port must be a port number 0-65535, got "abc"'],
    [
      { port: "0x10" },
      '--port must be a port number 0-65535 (plain decimal digits only: no hex, octal, exponent, sign + or spaces), got "0x10"',
    ],
    [{ maxSubscriptions: "010" }, "--max-subscriptions must be a whole number of at least 1 (plain decimal"],
    [
      { connectionRate: "1e2" },
      "--connection-rate must be a number of connections per second above 0 (plain",
    ],
    [{ connectTimeout: " 500" }, 'got " 500"'],
    [{ wsPort: "65536" }, "--ws-port must be a port number 0-65535"],
    [{ maxPacketBytes: "12" }, "--max-packet-bytes must be a byte count"],
    [{ drainTimeout: "-1" }, "--drain-timeout must be a positive number of milliseconds"],
    [{ maxQueuedBytes: "1k" }, "--max-queued-bytes must be a byte count of at least 256"],
    [{ maxQueuedBytes: "4096" }, "--max-queued-bytes must be at least --max-packet-bytes (65536)"],
    [
      { maxQueuedBytes: "4096", maxPacketBytes: "8192" },
      "--max-queued-bytes must be at least --max-packet-bytes (8192)",
    ],
    [
      { tlsPort: "8883" },
      "--tls-key and --tls-cert are required with --tls-port (a TLS listener needs all three",
    ],
    [{ tlsKey: "k.pem", tlsCert: "c.pem" }, "--tls-port is required with --tls-key and --tls-cert"],
    [{ tlsPort: "8883", tlsKey: "k.pem" }, "--tls-cert is required with --tls-port and --tls-key"],
    [{ willGrace: "10" }, "--will-grace needs --data (only a data directory keeps wills)"],
    [{ wsPort: "1883" }, "--ws-port is the MQTT port (--port, default 1883) too"],
    [
      { port: "8883", tlsPort: "8883", tlsKey: "k", tlsCert: "c" },
      "--tls-port is the MQTT port (--port) too",
    ],
    [
      { wsPort: "8080", tlsPort: "8080", tlsKey: "k", tlsCert: "c" },
      "--tls-port is the WebSocket port (--ws-port) too",
    ],
    [{ willGrace: "-1", data: "d" }, "--will-grace must be a whole number of seconds from 0 to 86400"],
  ])("names the flag of %o", (flags, message) => {
    expect(() => parseBrokerCommandOptions(flags)).toThrow(message);
  });

  it("turns flags into broker options", () => {
    expect(
      parseBrokerCommandOptions({
        port: "1884",
        tlsPort: 8883,
        tlsKey: "k",
        tlsCert: "c",
        data: "d",
        willGrace: "5",
        auth: "a.json",
        maxQueuedBytes: "1048576",
      }),
    ).toEqual({
      broker: expect.objectContaining({
        port: 1884,
        maxQueuedBytes: 1_048_576,
        tls: { port: 8883, keyFile: "k", certFile: "c" },
        dataDir: "d",
        staleWillGraceMs: 5000,
      }),
      authFile: "a.json",
    });
  });
});

describe("runBrokerCommand", () => {
  it("runs until aborted, then closes its clients", async () => {
    const { url, stop, done } = await runningBrokerCommand({ host: "127.0.0.1", port: "0" });
    const c = await client(url);
    const gone = once(c, "close");
    stop();
    await Promise.all([done, gone]);
    await closeAll(c);
  });

  it("names a credentials file it cannot read", async () => {
    const missing = join(dir, "nope.json");
    await expect(
      runBrokerCommand({ port: "0", auth: missing }, { logger: pino({ level: "silent" }) }),
    ).rejects.toThrow(`--auth: cannot read ${missing}: no such file`);
  });
});
