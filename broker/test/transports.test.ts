/**
 * TLS and WebSocket listeners: pub/sub across transports, the packet limit on each, and start-up
 * errors that name the bad TLS file; a banned address gets no TLS handshake nor WebSocket upgrade.
 * Certificates are made at test time with the openssl CLI.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { credentialsPolicy, hashPassword } from "../credentials.js";
import { FrameLimitError } from "../frame-limit.js";
import { type RunningBroker, startBroker } from "../server.js";
import { selfSigned } from "./certs.js";
import { client, closeAll, closed, nextMessage, once, packet } from "./helpers.js";

let dir: string;
let keyFile: string;
let certFile: string;

function makeCert(name: string): { key: string; cert: string } {
  const { keyFile: key, certFile: cert } = selfSigned(dir, name, { names: "DNS:localhost,IP:127.0.0.1" });
  return { key, cert };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-tls-"));
  ({ key: keyFile, cert: certFile } = makeCert("a"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("listeners", () => {
  const LIMIT = 1024;
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      wsPort: 0,
      tls: { port: 0, keyFile, certFile },
      maxPacketBytes: LIMIT,
    });
  });
  afterAll(() => broker.close());

  it("reports the bound ports and URLs", () => {
    for (const p of [broker.port, broker.tlsPort, broker.wsPort]) expect(p).toBeGreaterThan(0);
    expect(new Set([broker.port, broker.tlsPort, broker.wsPort]).size).toBe(3);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.tlsUrl).toBe(`mqtts://127.0.0.1:${broker.tlsPort}`);
    expect(broker.wsUrl).toBe(`ws://127.0.0.1:${broker.wsPort}`);
  });

  it("carries messages between TCP, TLS and WebSocket clients", async () => {
    const ca = await import("node:fs/promises").then((fs) => fs.readFile(certFile));
    const tcp = await client(broker.url, { clientId: "tcp" });
    const tls = await client(broker.tlsUrl!, {
      clientId: "tls",
      ca,
      servername: "localhost",
      rejectUnauthorized: true,
    });
    const ws = await client(broker.wsUrl!, { clientId: "ws" });
    await Promise.all([tls.subscribeAsync("t/tls"), ws.subscribeAsync("t/ws"), tcp.subscribeAsync("t/tcp")]);

    const atTls = nextMessage(tls, "t/tls");
    const atWs = nextMessage(ws, "t/ws");
    const atTcp = nextMessage(tcp, "t/tcp");
    await tcp.publishAsync("t/tls", "from tcp");
    await tls.publishAsync("t/ws", "from tls");
    await ws.publishAsync("t/tcp", "from ws");
    expect(await Promise.all([atTls, atWs, atTcp])).toEqual(["from tcp", "from tls", "from ws"]);
    await closeAll(tcp, tls, ws);
  });

  it("cuts an oversized packet over TLS", async () => {
    const cut = once(
      broker.aedes,
      "connectionError",
      5000,
      (_c: unknown, e: Error) => e instanceof FrameLimitError,
    );
    const s = connectTls({ host: "127.0.0.1", port: broker.tlsPort!, rejectUnauthorized: false });
    s.on("error", () => {});
    await once(s, "secureConnect");
    s.write(Buffer.from([0x10, 0xff, 0xff, 0x03]));
    await Promise.all([cut, closed(s)]);
  });

  it("cuts an oversized packet over WebSocket, split across messages or in one", async () => {
    for (const chunks of [
      [Buffer.from([0x10, 0xff, 0x7f])],
      [Buffer.from([0x10]), Buffer.from([0xff, 0x7f])],
    ]) {
      const ws = new WebSocket(broker.wsUrl!, "mqtt");
      ws.on("error", () => {});
      await once(ws, "open");
      const gone = once(ws, "close");
      for (const c of chunks) ws.send(c);
      await gone;
    }
  });
});

describe("bad TLS files", () => {
  const start = (key: string, cert: string) =>
    startBroker({ host: "127.0.0.1", port: 0, tls: { port: 0, keyFile: key, certFile: cert } });

  it("names a missing file", async () => {
    const missing = join(dir, "missing.key");
    await expect(start(missing, certFile)).rejects.toThrow(`cannot read ${missing}: no such file`);
    await expect(start(keyFile, missing)).rejects.toThrow(`cannot read ${missing}: no such file`);
  });

  it("names a file that is not PEM, or a directory", async () => {
    const junk = join(dir, "junk.pem");
    await writeFile(junk, "not a key\n");
    await expect(start(junk, certFile)).rejects.toThrow(`TLS key file ${junk} is not PEM`);
    await expect(start(keyFile, junk)).rejects.toThrow(`TLS certificate file ${junk} is not PEM`);
    await expect(start(dir, certFile)).rejects.toThrow(`cannot read ${dir}: is a directory`);
  });

  it("names both files when the key does not match the certificate", async () => {
    const other = makeCert("b");
    await expect(start(other.key, certFile)).rejects.toThrow(
      `TLS key ${other.key} and certificate ${certFile} cannot be used`,
    );
  });
});

describe("a banned address", () => {
  /** A wrong-password login from `from` on the plain port; resolves when the broker has answered. */
  function failLogin(port: number, from: string, i: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connectTcp({ port, host: "127.0.0.1", localAddress: from }, () =>
        s.write(
          packet({
            cmd: "connect",
            protocolId: "MQTT",
            protocolVersion: 4,
            clientId: `bad-${i}`,
            clean: true,
            keepalive: 60,
            username: "ctl",
            password: Buffer.from("wrong"),
          }),
        ),
      );
      s.once("error", reject);
      s.once("data", () => s.destroy());
      s.once("close", () => resolve());
    });
  }

  /** What a TLS client from `from` gets: "secure" once the handshake completes, "closed" if cut before. */
  function tlsFrom(port: number, from: string): Promise<"secure" | "closed"> {
    return new Promise((resolve) => {
      const tcp = connectTcp({ port, host: "127.0.0.1", localAddress: from });
      tcp.on("error", () => resolve("closed"));
      const s = connectTls({ socket: tcp, rejectUnauthorized: false }, () => {
        s.destroy();
        resolve("secure");
      });
      s.once("error", () => resolve("closed"));
      s.once("close", () => resolve("closed"));
    });
  }

  function wsFrom(port: number, from: string): Promise<"open" | "closed"> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, "mqtt", { localAddress: from });
      ws.once("open", () => {
        ws.terminate();
        resolve("open");
      });
      ws.once("error", () => resolve("closed"));
    });
  }

  it("is cut on accept by the TLS and WebSocket listeners, before any handshake", async () => {
    const broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      wsPort: 0,
      tls: { port: 0, keyFile, certFile },
      auth: credentialsPolicy({ users: { ctl: { role: "control", password: await hashPassword("right") } } }),
      loginFailuresPerAddress: 2,
    });
    try {
      const tlsPort = broker.tlsPort ?? 0;
      const wsPort = broker.wsPort ?? 0;
      // Before the ban, both handshakes complete from that address.
      expect(await tlsFrom(tlsPort, "127.0.0.7")).toBe("secure");
      expect(await wsFrom(wsPort, "127.0.0.7")).toBe("open");
      for (let i = 0; i < 3; i++) await failLogin(broker.port, "127.0.0.7", i);
      expect(await tlsFrom(tlsPort, "127.0.0.7")).toBe("closed");
      expect(await wsFrom(wsPort, "127.0.0.7")).toBe("closed");
      // Others are not affected.
      expect(await tlsFrom(tlsPort, "127.0.0.1")).toBe("secure");
      expect(await wsFrom(wsPort, "127.0.0.1")).toBe("open");
    } finally {
      await broker.close();
    }
  });
});
