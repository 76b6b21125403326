/**
 * The TLS and WebSocket listeners against hostile clients on real sockets: a TLS handshake that
 * never completes is closed at the connect timeout; unfinished handshakes and upgrades count towards
 * --max-pending as silent plain sockets do; a WebSocket message over the packet limit or a text frame
 * is cut and counted as on the plain port, and so is a flood of pings; the `mqtt` subprotocol is
 * chosen, and a request offering only others is refused.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as connectTcp, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as connectTls } from "node:tls";
import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import type { BrokerOptions } from "../options.js";
import { type RunningBroker, startBroker } from "../server.js";
import { selfSigned } from "./certs.js";
import { client, closeAll, closed, connectPacket } from "./helpers.js";

let dir: string;
let keyFile: string;
let certFile: string;
let broker: RunningBroker | undefined;
let sockets: Socket[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-hostile-"));
  ({ keyFile, certFile } = selfSigned(dir, "broker"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await broker?.close();
  broker = undefined;
});

async function start(options: BrokerOptions): Promise<{ b: RunningBroker; lines: { msg: string }[] }> {
  const lines: { msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: 0,
    tls: { port: 0, keyFile, certFile },
    logger,
    ...options,
  });
  return { b: broker, lines };
}

function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connectTcp(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
    s.resume();
    sockets.push(s);
  });
}

/** A raw socket through a completed WebSocket upgrade offering `protocol`; resolves with the answer's head. */
async function upgraded(port: number, protocol?: string): Promise<{ s: Socket; head: string }> {
  const s = await tcp(port);
  let got = Buffer.alloc(0);
  const collect = (d: Buffer) => {
    got = Buffer.concat([got, d]);
  };
  s.on("data", collect);
  s.write(
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
      (protocol === undefined ? "" : `Sec-WebSocket-Protocol: ${protocol}\r\n`) +
      "\r\n",
  );
  await expect.poll(() => got.includes("\r\n\r\n")).toBe(true);
  s.off("data", collect);
  return { s, head: got.subarray(0, got.indexOf("\r\n\r\n")).toString() };
}

/** A masked client WebSocket frame; `length` overrides the length announced. */
function wsFrame(opcode: number, payload: Buffer, length = payload.length): Buffer {
  const head =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), u64(length)]);
  const mask = Buffer.from([9, 8, 7, 6]);
  return Buffer.concat([head, mask, payload.map((b, i) => b ^ (mask[i % 4] ?? 0))]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

describe("a TLS handshake that never completes", () => {
  it("is closed at the connect timeout, silent or with half a ClientHello, and logged in bounded lines", async () => {
    const { b, lines } = await start({ connectTimeoutMs: 300 });
    const port = b.tlsPort ?? 0;
    const silent = await Promise.all(Array.from({ length: 25 }, () => tcp(port)));
    const partial = await tcp(port);
    partial.write(Buffer.from("16030100c8010000c40303", "hex"));
    // Before, Node reported the handshake timeout and left every one of these open for good.
    await Promise.all([...silent, partial].map((s) => closed(s, 5000)));
    await expect.poll(() => b.figures.tally.refused["tls-handshake"]).toBe(26);
    expect(lines.filter((l) => l.msg.startsWith("TLS handshake failed")).length).toBeLessThanOrEqual(20);
  });
});

describe("a handshake done late", () => {
  it("leaves CONNECT what is left of the connect timeout since accept, on the TLS and WebSocket listeners", async () => {
    // The wait is on the broker's clock, moved here: the host's load cannot move its end. The
    // handshakes' own timeouts (Node's, on the host's clock) are the same 60 s and never come.
    const clock = new FakeScheduler();
    const { b, lines } = await start({ connectTimeoutMs: 60_000, maxPendingPerAddress: 2, scheduler: clock });
    const ws = await tcp(b.wsPort ?? 0);
    const raw = await tcp(b.tlsPort ?? 0);
    let wsGot = Buffer.alloc(0);
    ws.on("data", (d: Buffer) => {
      wsGot = Buffer.concat([wsGot, d]);
    });
    ws.write("GET / HTTP/1.1\r\nHost: x\r\n");
    // Both accepted at 0 on that clock: a third connection from the address is over the pending cap.
    await closed(await tcp(b.port), 30_000);
    expect(b.figures.tally.refused.pending).toBe(1);
    // The handshakes done 59 s after accept.
    clock.runUntil(59_000);
    ws.write(
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`,
    );
    const secured = connectTls({ socket: raw, rejectUnauthorized: false });
    secured.on("error", () => {});
    let tlsGot = Buffer.alloc(0);
    secured.on("data", (d: Buffer) => {
      tlsGot = Buffer.concat([tlsGot, d]);
    });
    await Promise.all([
      expect.poll(() => wsGot.toString()).toMatch(/^HTTP\/1.1 101/),
      new Promise((resolve) => secured.once("secureConnect", resolve)),
    ]);
    // Not before: nothing at 1 ms short of accept plus the timeout (the broker may see the end of a
    // TLS handshake after the client does; it then starts the wait later, with less left).
    clock.runUntil(59_999);
    await sleep(50);
    expect(b.figures.tally.refused["connect-timeout"]).toBe(0);
    expect(ws.destroyed || raw.destroyed).toBe(false);
    // Both closed at accept plus the timeout, 1 s after their handshakes. Before, a CONNECT had a
    // whole timeout after the handshake: both were held to 119 s.
    await expect
      .poll(() => {
        clock.runUntil(60_000);
        return b.figures.tally.refused["connect-timeout"];
      })
      .toBe(2);
    await Promise.all([closed(ws, 30_000), closed(raw, 30_000)]);
    expect(wsGot.subarray(wsGot.indexOf("\r\n\r\n") + 4).includes(0x82)).toBe(false);
    expect(tlsGot.length).toBe(0);
    // Each line names the address: a client that never sent CONNECT has nothing else to find it by.
    const late = lines.filter((l) => JSON.stringify(l).includes("connect did not arrive in time"));
    expect(late.map((l) => (l as { remote?: string }).remote)).toEqual(["127.0.0.1", "127.0.0.1"]);
  });
});

describe("a WebSocket upgrade request begun late", () => {
  it("is timed from accept, not from its first byte", async () => {
    // Its deadline is on the broker's clock, moved here (Node's own header timeout, on the host's
    // clock, is the same 60 s and never comes).
    const clock = new FakeScheduler();
    const { b, lines } = await start({ connectTimeoutMs: 60_000, maxPendingPerAddress: 1, scheduler: clock });
    const s = await tcp(b.wsPort ?? 0);
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString();
    });
    // Accepted at 0 on that clock: a second connection from the address is over the pending cap.
    await closed(await tcp(b.port), 30_000);
    expect(b.figures.tally.refused.pending).toBe(1);
    // Its first byte 59 s after accept; nothing at 1 ms short of the timeout.
    clock.runUntil(59_000);
    s.write("GET / HTTP/1.1\r\nHost: x\r\n");
    clock.runUntil(59_999);
    await sleep(50);
    expect(got).toBe("");
    // Before, node's own timer started at the first byte: the request was held to 119 s.
    await expect
      .poll(() => {
        clock.runUntil(60_000);
        return got;
      })
      .toMatch(/^HTTP\/1.1 408/);
    await closed(s, 30_000);
    expect(b.figures.tally.refused["ws-upgrade-timeout"]).toBe(1);
    expect(lines.filter((l) => l.msg.startsWith("WebSocket upgrade request not whole")).length).toBe(1);
  });
});

describe("handshakes under way", () => {
  it("count towards the pending cap of their address on the TLS and WebSocket listeners", async () => {
    const { b } = await start({ maxPendingPerAddress: 3, connectTimeoutMs: 60_000 });
    for (const port of [b.tlsPort ?? 0, b.wsPort ?? 0]) {
      const held = await Promise.all(Array.from({ length: 5 }, () => tcp(port)));
      // Two are past the cap and closed at accept, before any handshake; the three others are held.
      await expect.poll(() => held.filter((s) => s.destroyed).length).toBe(2);
      for (const s of held) s.destroy();
      await expect.poll(() => b.figures.tally.refused.pending).toBe(port === b.tlsPort ? 2 : 4);
    }
  });

  it("leave the cap once past CONNECT: clients that stay connected hold no place in it", async () => {
    const { b } = await start({ maxPendingPerAddress: 2 });
    const connected: MqttClient[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        connected.push(await client(b.tlsUrl ?? "", { rejectUnauthorized: false, clientId: `t${i}` }));
        connected.push(await client(b.wsUrl ?? "", { clientId: `w${i}` }));
      }
      expect(b.figures.tally.refused.pending).toBe(0);
      expect(b.figures.clientsNow()).toMatchObject({ tls: 3, ws: 3 });
    } finally {
      await closeAll(...connected);
    }
  });
});

describe("WebSocket frames", () => {
  it("cuts a message announcing 2^40 bytes or over the packet limit, counted as packet-too-large", async () => {
    const { b, lines } = await start({ maxPacketBytes: 1024 });
    const huge = (await upgraded(b.wsPort ?? 0, "mqtt")).s;
    huge.write(wsFrame(2, Buffer.alloc(0), 2 ** 40).subarray(0, 14));
    const big = (await upgraded(b.wsPort ?? 0, "mqtt")).s;
    big.write(wsFrame(2, Buffer.alloc(2000)));
    await Promise.all([closed(huge), closed(big)]);
    await expect.poll(() => b.figures.tally.cut["packet-too-large"]).toBe(2);
    expect(lines.filter((l) => l.msg === "connection cut: packet limit").length).toBe(2);
  });

  it("names the client's address, and its id once known, in its cut line, as the plain port does", async () => {
    const { b, lines } = await start({ maxPacketBytes: 1024 });
    const wsEarly = (await upgraded(b.wsPort ?? 0, "mqtt")).s;
    wsEarly.write(wsFrame(2, Buffer.alloc(2000)));
    const ws = (await upgraded(b.wsPort ?? 0, "mqtt")).s;
    const plain = await tcp(b.port);
    let acks = 0;
    for (const s of [ws, plain])
      s.on("data", (d: Buffer) => {
        if (d.includes(0x20)) acks++;
      });
    ws.write(wsFrame(2, connectPacket("ws-big")));
    plain.write(connectPacket("tcp-big"));
    await expect.poll(() => acks).toBe(2);
    ws.write(wsFrame(2, Buffer.alloc(2000)));
    // A PUBLISH header declaring 100,000 bytes.
    plain.write(Buffer.from([0x30, 0xa0, 0x8d, 0x06]));
    await Promise.all([closed(wsEarly), closed(ws), closed(plain)]);
    await expect.poll(() => b.figures.tally.cut["packet-too-large"]).toBe(3);
    const cuts = lines.filter((l) => l.msg === "connection cut: packet limit") as {
      clientId?: string;
      remote?: string;
    }[];
    // Before, neither line named the address: a client cut before its CONNECT could not be found.
    expect(cuts.map((l) => `${l.clientId ?? "-"} ${l.remote}`).sort()).toEqual([
      "- 127.0.0.1",
      "tcp-big 127.0.0.1",
      "ws-big 127.0.0.1",
    ]);
  });

  it("closes on a text frame without reading it as MQTT [MQTT-6.0.0-1]", async () => {
    const { b } = await start({});
    const { s } = await upgraded(b.wsPort ?? 0, "mqtt");
    let got = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
    });
    s.write(wsFrame(1, connectPacket("text")));
    await closed(s);
    // A close frame (0x88) with status 1003, and no CONNACK (a binary frame, 0x82).
    expect(got[0]).toBe(0x88);
    expect(got.readUInt16BE(2)).toBe(1003);
    expect(got.includes(0x82)).toBe(false);
    expect(b.figures.tally.cut["protocol-violation"]).toBe(1);
  });

  it("cuts a flood of pings whose pongs are not taken, logged and counted as ping-flood", async () => {
    const { b, lines } = await start({});
    // A ping is answered: a pong (0x8a) with its payload.
    const calm = (await upgraded(b.wsPort ?? 0, "mqtt")).s;
    let pong = Buffer.alloc(0);
    calm.on("data", (d: Buffer) => {
      pong = Buffer.concat([pong, d]);
    });
    calm.write(wsFrame(9, Buffer.from("hi")));
    await expect.poll(() => pong.toString("hex")).toBe("8a026869");
    const { s } = await upgraded(b.wsPort ?? 0, "mqtt");
    // 1,000 pings of 125 bytes in one write, and the pongs not read.
    s.pause();
    s.write(Buffer.concat(Array.from({ length: 1000 }, () => wsFrame(9, Buffer.alloc(125, 7)))));
    await expect.poll(() => b.figures.tally.cut["ping-flood"]).toBe(1);
    s.resume();
    await closed(s);
    const cut = lines.filter((l) => l.msg === "client error");
    expect(cut.length).toBe(1);
    expect(JSON.stringify(cut[0])).toMatch(/ping flood: over 60 pongs unsent/);
    expect(b.figures.tally.cut["protocol-violation"]).toBe(0);
  });
});

describe("the WebSocket subprotocol", () => {
  it("is mqtt when offered among others, and a request offering none of MQTT's is refused", async () => {
    const { b } = await start({});
    const port = b.wsPort ?? 0;
    expect((await upgraded(port, "foo, mqtt")).head).toMatch(/\r\nSec-WebSocket-Protocol: mqtt$/im);
    expect((await upgraded(port, "mqttv3.1")).head).toMatch(/\r\nSec-WebSocket-Protocol: mqttv3.1$/im);
    expect((await upgraded(port)).head).toMatch(/^HTTP\/1.1 101/);
    expect((await upgraded(port, "foo")).head).toMatch(/^HTTP\/1.1 400/);
    expect(b.figures.tally.refused["ws-subprotocol"]).toBe(1);
  });
});
