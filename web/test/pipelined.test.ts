/**
 * A client that sends requests ahead of their answers (HTTP/1.1 pipelining) and reads nothing: the
 * server took every request in and built each answer, held in memory behind the unread ones (150
 * such connections of 1,000 `GET /api/convergence` each took a twins service to 1.2 GB, `/healthz`
 * answered in 6.8 s). Past `maxUnanswered` the connection is closed, counted `pipelined`, and the
 * requests of it Node had parsed already are not answered, nor the rest of its read parsed (each of
 * 1,500 short requests of a 64 KiB read was built and routed); a client that reads its answers, with
 * requests pipelined or not, is served as before.
 */
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { httpApp } from "../http-app.js";

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** An app whose one route answers 10 kB on the next turn; `handled` counts the answers it began. */
async function server(maxUnanswered: number) {
  const scheduler = new FakeScheduler();
  const warned: { fields: Record<string, unknown>; text: string }[] = [];
  const h = httpApp({
    rules: { loopback: true, token: "t".repeat(32) },
    connections: { maxUnanswered },
    scheduler,
    warn: (fields, text) => warned.push({ fields, text }),
  });
  // `handled`: the answers the route began; `parsed`: the requests Node handed to the server.
  const seen = { handled: 0, parsed: 0 };
  h.app.server.on("request", () => {
    seen.parsed++;
  });
  h.app.get("/big", async () => {
    seen.handled++;
    await new Promise((r) => setImmediate(r));
    return "x".repeat(10_000);
  });
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  apps.push(h.app);
  const port = (h.app.server.address() as { port: number }).port;
  return { ...h, seen, port, scheduler, warned };
}

const request = (port: number) => `GET /big HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

describe("requests sent ahead of their answers", () => {
  it("close a connection that never reads past the limit, its parsed requests left unanswered", async () => {
    const s = await server(8);
    const c = await open(s.port);
    c.on("error", () => {});
    // 500 requests in one write (about 20 kB: one read of the server's), then nothing read.
    c.write(request(s.port).repeat(500));
    c.pause();
    await expect.poll(() => s.connections.pipelined, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => s.connections.open, { timeout: 20_000 }).toBe(0);
    // The answers begun: the limit's, not the 500 sent.
    expect(s.seen.handled).toBeLessThanOrEqual(8);
    // Nor were the rest of the read parsed: the limit's and the one that closed it (all 500 were).
    expect(s.seen.parsed).toBeLessThanOrEqual(9);
    c.destroy();
  });

  it("says so in one WARN naming the address, the closes after it summed up a minute later", async () => {
    const s = await server(8);
    for (const n of [1, 2, 3]) {
      const c = await open(s.port);
      c.on("error", () => {});
      c.write(request(s.port).repeat(50));
      c.pause();
      await expect.poll(() => s.connections.pipelined, { timeout: 20_000 }).toBe(n);
      c.destroy();
    }
    expect(s.warned).toHaveLength(1);
    expect(s.warned[0]?.fields).toEqual({ remote: "127.0.0.1" });
    expect(s.warned[0]?.text).toContain(
      "closed a connection from 127.0.0.1: it sent more than 8 requests ahead of their answers",
    );
    s.scheduler.advance(60_000);
    expect(s.warned).toHaveLength(2);
    expect(s.warned[1]?.text).toBe(
      "web: 2 more connections closed in the last minute for sending more than 8 requests ahead of their answers: 127.0.0.1 ×2",
    );
  });

  it("bounds requests with an Expect: other than 100-continue like the rest, answered 417 in turn", async () => {
    const s = await server(8);
    // One alone: a problem naming the header, as every other refusal.
    const one = await open(s.port);
    let got = "";
    one.setEncoding("latin1");
    one.on("data", (d: string) => {
      got += d;
    });
    one.write(`GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: gzip\r\n\r\n`);
    await expect.poll(() => got, { timeout: 20_000 }).toContain('"status":417');
    expect(got).toMatch(/^HTTP\/1\.1 417 .*\r\n[\s\S]*content-type: application\/problem\+json/i);
    expect(got).toContain('not \\"gzip\\"');
    one.destroy();
    // 500 sent ahead of their answers: Node answered each 417 itself, past the bound, never closing.
    const c = await open(s.port);
    c.on("error", () => {});
    c.write(`GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: gzip\r\n\r\n`.repeat(500));
    c.pause();
    await expect.poll(() => s.connections.pipelined, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => s.connections.open, { timeout: 20_000 }).toBe(0);
    expect(s.seen.parsed).toBeLessThanOrEqual(1 + 9);
    c.destroy();
  });

  it("serves a client that pipelines within the limit and reads its answers", async () => {
    const s = await server(8);
    const c = await open(s.port);
    let got = "";
    c.on("data", (d: Buffer) => {
      got += d.toString("latin1");
    });
    c.write(request(s.port).repeat(8));
    await expect.poll(() => got.split("HTTP/1.1 200 OK").length - 1, { timeout: 20_000 }).toBe(8);
    expect(s.connections.pipelined).toBe(0);
    c.destroy();
  });
});
