/**
 * Requests sent ahead of their answers (HTTP/1.1 pipelining) have their answers built in turn: each
 * once the client has taken the one before. The server built them all at once, each held whole
 * behind the unread one before it (256 connections of 32 `GET /api/nodes?q=n-` on a 3,000-node
 * fleet, read by nobody, took a twins service to 2.40 GB). A connection whose next answer waits for its
 * client to read counts as idle at the connection cap, as one whose last answer is unread does.
 */
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpApp } from "../http-app.js";

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** More than the system's buffers take of a connection whose client reads nothing (4 MB + 4 MB). */
const HUGE = Buffer.alloc(16 * 1024 * 1024, 120);

/** `log`: each answer begun and each handed to the system to send, in order. */
async function server(maxConnections = 8) {
  const h = httpApp({ rules: { loopback: true, token: "t".repeat(32) }, connections: { maxConnections } });
  const log: string[] = [];
  let parsed = 0;
  h.app.server.on("request", (_req, res) => {
    parsed++;
    res.once("finish", () => log.push("sent"));
  });
  h.app.get("/small", async () => {
    log.push("begun");
    await new Promise((r) => setImmediate(r));
    return "x".repeat(1000);
  });
  h.app.get("/huge", async (_req, reply) => {
    log.push("begun");
    return reply.type("application/octet-stream").send(HUGE);
  });
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  apps.push(h.app);
  const port = (h.app.server.address() as { port: number }).port;
  return { ...h, log, parsed: () => parsed, port };
}

const request = (port: number, path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

describe("answers to pipelined requests", () => {
  it("are each begun once the client has taken the one before", async () => {
    const s = await server();
    const c = await open(s.port);
    let got = "";
    c.on("data", (d: Buffer) => {
      got += d.toString("latin1");
    });
    c.write(request(s.port, "/small").repeat(4));
    await expect.poll(() => got.split("HTTP/1.1 200 OK").length - 1, { timeout: 20_000 }).toBe(4);
    await expect.poll(() => s.log.length, { timeout: 20_000 }).toBe(8);
    // All four were begun before the first was sent.
    expect(s.log).toEqual(["begun", "sent", "begun", "sent", "begun", "sent", "begun", "sent"]);
    c.destroy();
  });

  it("leave a connection whose client reads nothing idle at the cap, not busy", async () => {
    const s = await server(1);
    const a = await open(s.port);
    a.on("error", () => {});
    // The first answer fills the buffers and is never taken; the second waits for it.
    a.write(request(s.port, "/huge").repeat(2));
    a.pause();
    await expect.poll(() => s.parsed(), { timeout: 20_000 }).toBe(2);
    await expect.poll(() => s.log, { timeout: 20_000 }).toContain("begun");
    // A new client takes its place: were the connection counted busy, the new one would be refused.
    const b = await open(s.port);
    let got = "";
    b.on("data", (d: Buffer) => {
      got += d.toString("latin1");
    });
    b.write(request(s.port, "/small"));
    await expect.poll(() => got.includes("HTTP/1.1 200 OK"), { timeout: 20_000 }).toBe(true);
    expect(s.connections).toMatchObject({ idle: 1, refused: 0 });
    a.destroy();
    b.destroy();
  });
});
