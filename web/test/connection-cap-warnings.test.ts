/**
 * A connection refused at the server's cap, every connection busy (web/connection-limits.ts), is told
 * in the log as the other refusals are (web/connection-warnings.ts): one WARN at once naming the
 * address and the cap, the rest summed up at the minute's end. It used to be counted on /metrics
 * alone, so an operator reading the log never learnt clients were being turned away.
 */
import { connect, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { httpApp } from "../http-app.js";

const apps: { close(): Promise<unknown> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const a of apps.splice(0)) await a.close();
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    sockets.push(s);
    s.on("error", () => {});
    s.once("error", reject);
  });
}

it("says a connection refused at the cap in one WARN, the ones after it summed up a minute later", async () => {
  const scheduler = new FakeScheduler();
  const warned: { fields: Record<string, unknown>; text: string }[] = [];
  const h = httpApp({
    rules: { loopback: true, token: "t".repeat(32) },
    connections: { maxConnections: 1 },
    scheduler,
    warn: (fields, text) => warned.push({ fields, text }),
  });
  // A request that is never answered: its connection stays busy.
  let begun = 0;
  h.app.get("/hold", () => {
    begun++;
    return new Promise<string>(() => {});
  });
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  apps.push(h.app);
  const port = (h.app.server.address() as { port: number }).port;
  const busy = await open(port);
  busy.write(`GET /hold HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  await expect.poll(() => begun, { timeout: 20_000 }).toBe(1);

  for (const n of [1, 2, 3]) {
    await open(port);
    await expect.poll(() => h.connections.refused, { timeout: 20_000 }).toBe(n);
  }
  expect(warned).toHaveLength(1);
  expect(warned[0]?.fields).toEqual({ remote: "127.0.0.1", cap: 1 });
  expect(warned[0]?.text).toBe(
    "web: refused a connection from 127.0.0.1: the server keeps 1 connections open at once and every one is busy (event streams, requests in progress); at most one such line a minute",
  );
  scheduler.advance(60_000);
  expect(warned).toHaveLength(2);
  expect(warned[1]?.fields).toEqual({ refused: 2, cap: 1, addresses: { "127.0.0.1": 2 } });
  expect(warned[1]?.text).toBe(
    "web: 2 more connections refused in the last minute, all 1 the server keeps open at once busy: 127.0.0.1 ×2",
  );
});
