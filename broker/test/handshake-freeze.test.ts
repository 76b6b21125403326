/**
 * The TLS handshake's and the WebSocket upgrade's time (--connect-timeout from accept) after the
 * broker did not run for a while. Their timers fired, when it ran again, before the handshakes and
 * upgrade requests waiting in the kernel were read: every connection accepted before the stop was
 * cut (50 of 50 TLS handshakes, 48 of 50 upgrades after a 3 s stop under a 2 s timeout). Here a real
 * socket is accepted, the broker's own clock jumps with the fake timeouts (a stall its watch finds),
 * and only then does the client send its ClientHello or its upgrade request.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Server as TlsServer, connect as tlsConnect } from "node:tls";
import pino from "pino";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import type { PendingTicket } from "../admission.js";
import { TLS_HANDSHAKE_TIMEOUT, tlsListener } from "../tls-listener.js";
import { webSocketListener } from "../ws-listener.js";
import { selfSigned } from "./certs.js";
import { afterIo, BrokerClock } from "./frozen-broker.js";

const CONNECT_TIMEOUT_MS = 2_000;
const ticket: PendingTicket = { settle: () => {} };

let dir: string;
let clock: BrokerClock;
let accepted: number;
let handed: number;
let failed: string[];
let server: Server | TlsServer | undefined;
const sockets: Socket[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tf-handshake-"));
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  clock = new BrokerClock();
  accepted = 0;
  handed = 0;
  failed = [];
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  const s = server;
  server = undefined;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

async function listening(s: Server | TlsServer): Promise<number> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as AddressInfo).port;
}

/** A raw connection the listener has accepted (and admitted). */
async function acceptedSocket(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  sockets.push(socket);
  await vi.waitFor(() => expect(accepted).toBe(1));
  return socket;
}

/**
 * A connection `s` has accepted (and admitted), then a 3 s stop of the broker just after the accept
 * (a stall its watch finds), the connection not given up on meanwhile.
 */
async function acceptedThroughStall(s: Server | TlsServer): Promise<Socket> {
  const raw = await acceptedSocket(await listening(s));
  clock.freeze(3_000);
  await afterIo();
  expect(failed).toEqual([]);
  return raw;
}

/** The status line of the first HTTP answer on `raw`. */
const statusLine = (raw: Socket): Promise<string | undefined> =>
  new Promise((resolve) => raw.once("data", (d) => resolve(d.toString().split("\r\n")[0])));

function tlsServer(): TlsServer {
  const { keyFile, certFile } = selfSigned(dir, "broker");
  return tlsListener({
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    clock: new RealScheduler(),
    logger: pino({ level: "silent" }),
    stalled: clock.stalled,
    admit: () => {
      accepted++;
      return ticket;
    },
    handle: () => {
      handed++;
    },
    failed: (_remote, detail) => failed.push(detail),
  });
}

it("a TLS handshake that comes after a stall past its time is completed", async () => {
  // The broker stops just after the accept, for 3 s; the client's ClientHello waits in the kernel.
  const raw = await acceptedThroughStall(tlsServer());
  const secured = tlsConnect({ socket: raw, rejectUnauthorized: false });
  secured.on("error", () => {});
  sockets.push(secured);
  await vi.waitFor(() => expect(handed).toBe(1));
  expect(failed).toEqual([]);
});

it("a silent socket is still cut, one timeout after the stall", async () => {
  const raw = await acceptedThroughStall(tlsServer());
  const closed = new Promise<void>((resolve) => raw.once("close", () => resolve()));
  clock.run(CONNECT_TIMEOUT_MS);
  await afterIo();
  expect(failed).toEqual([TLS_HANDSHAKE_TIMEOUT]);
  await closed;
});

function wsServer(): Server {
  const { http } = webSocketListener({
    maxPacketBytes: 1024,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    clock: new RealScheduler(),
    stalled: clock.stalled,
    admit: () => {
      accepted++;
      return true;
    },
    handle: () => {
      handed++;
    },
    refused: (_reason, _remote, detail) => failed.push(detail),
    serverError: () => {},
  });
  return http;
}

const UPGRADE = [
  "GET / HTTP/1.1",
  "Host: 127.0.0.1",
  "Upgrade: websocket",
  "Connection: Upgrade",
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version: 13",
  "Sec-WebSocket-Protocol: mqtt",
  "",
  "",
].join("\r\n");

it("a WebSocket upgrade request that comes after a stall past its time is answered", async () => {
  const raw = await acceptedThroughStall(wsServer());
  const answer = statusLine(raw);
  raw.write(UPGRADE);
  expect(await answer).toBe("HTTP/1.1 101 Switching Protocols");
  await vi.waitFor(() => expect(handed).toBe(1));
  expect(failed).toEqual([]);
});

it("a silent socket on the WebSocket port is still answered 408, one timeout after the stall", async () => {
  const raw = await acceptedThroughStall(wsServer());
  const answer = statusLine(raw);
  clock.run(CONNECT_TIMEOUT_MS);
  expect(await answer).toBe("HTTP/1.1 408 Request Timeout");
  expect(failed).toEqual([`WebSocket upgrade request not whole within ${CONNECT_TIMEOUT_MS} ms`]);
});
