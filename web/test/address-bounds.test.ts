/**
 * One remote address's bounds (web/address-bounds.ts): 256 connections from one client on the LAN,
 * each sending requests ahead of their answers and reading nothing, took the fleet's main thread and
 * `/healthz` to 3.6-11 s. A request past its address's rate or connections is answered 429 with a
 * Retry-After, as problem+json naming the bound, its connection closed and nothing it sent after
 * read; one WARN line names the address. Loopback is not bounded (a reverse proxy on the host is
 * every client at once); the tests here bound it to stand for a LAN client, on a clock that stands.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import {
  ADDRESS_BURST,
  ADDRESS_PAGE_BURST,
  type AddressBounds,
  isPageFile,
  PerAddress,
} from "../address-bounds.js";
import { httpApp } from "../http-app.js";
import { rawClient } from "./raw-client.js";

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** An app whose one route answers at once, every address bounded by `perAddress`. */
async function server(perAddress: AddressBounds) {
  const scheduler = new FakeScheduler();
  const warned: { fields: Record<string, unknown>; text: string }[] = [];
  const h = httpApp({
    rules: { loopback: true, token: "t".repeat(32) },
    connections: { perAddress: { exempt: () => false, ...perAddress } },
    scheduler,
    warn: (fields, text) => warned.push({ fields, text }),
  });
  const seen = { parsed: 0 };
  h.app.server.on("request", () => {
    seen.parsed++;
  });
  h.app.get("/small", async () => "ok");
  h.app.get("/app/*", async () => "file");
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  apps.push(h.app);
  const port = (h.app.server.address() as { port: number }).port;
  return { ...h, scheduler, warned, seen, port };
}

const request = "GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

describe("one address's request rate", () => {
  it("answers a request past it 429 naming the bound, closes its connection, and warns once", async () => {
    const srv = await server({ burst: 2, perSecond: 1 });
    const c = await rawClient(srv.port);
    for (const n of [1, 2, 3]) {
      c.s.write(request);
      await expect.poll(() => c.statuses().length, { timeout: 20_000 }).toBe(n);
    }
    expect(c.statuses()).toEqual(["200", "200", "429"]);
    const refusal = c.got.text.slice(c.got.text.lastIndexOf("HTTP/1.1 429"));
    expect(refusal).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(refusal).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(refusal).toContain("more than 1 requests a second (bursts of 2) from 127.0.0.1: retry in 1 s");
    await expect.poll(() => c.got.ended, { timeout: 20_000 }).toBe(true);
    expect(srv.connections.limited).toEqual({ connections: 0, rate: 1 });
    expect(srv.warned.map((w) => w.fields)).toEqual([{ remote: "127.0.0.1", bound: "rate" }]);
    expect(srv.warned[0]?.text).toContain("refused requests from 127.0.0.1 (429)");
    // A second later (on the server's clock) the address has one request again.
    srv.scheduler.advance(1000);
    const d = await rawClient(srv.port);
    d.s.write(request);
    await expect.poll(() => d.statuses(), { timeout: 20_000 }).toEqual(["200"]);
    d.s.destroy();
  });

  it("reads nothing more of a connection that sent its requests ahead of the 429", async () => {
    const srv = await server({ burst: 2, perSecond: 1 });
    const c = await rawClient(srv.port);
    // 400 requests in one write, their answers read as they come.
    c.s.write(request.repeat(400));
    await expect.poll(() => c.got.ended, { timeout: 20_000 }).toBe(true);
    expect(c.statuses()).toEqual(["200", "200", "429"]);
    // The two served, the one refused, and at most the next one of the read: not the 400.
    expect(srv.seen.parsed).toBeLessThanOrEqual(4);
    expect(srv.connections.limited.rate).toBe(1);
  });
});

describe("the page's files", () => {
  it("have a bucket of their own: a page's files past the API's burst are served, the API still bounded", async () => {
    const srv = await server({ burst: 2, perSecond: 1, pageBurst: 5, pagePerSecond: 1 });
    const c = await rawClient(srv.port);
    const file = "GET /app/app.js?v=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // Five files (a tab's, as it loads), then the API's two: none refused.
    for (const [n, r] of [file, file, file, file, file, request, request].entries()) {
      c.s.write(r);
      await expect.poll(() => c.statuses().length, { timeout: 20_000 }).toBe(n + 1);
    }
    expect(c.statuses()).toEqual(["200", "200", "200", "200", "200", "200", "200"]);
    // The API's third is refused on its own bound.
    c.s.write(request);
    await expect.poll(() => c.got.ended, { timeout: 20_000 }).toBe(true);
    expect(c.got.text).toContain("more than 1 requests a second (bursts of 2) from 127.0.0.1");
    // A sixth file is refused on the files' bound, told as theirs.
    const d = await rawClient(srv.port);
    d.s.write(file);
    await expect.poll(() => d.got.ended, { timeout: 20_000 }).toBe(true);
    expect(d.statuses()).toEqual(["429"]);
    expect(d.got.text).toContain(
      "more than 1 requests a second for the page's files (bursts of 5) from 127.0.0.1: retry in 1 s",
    );
    expect(srv.connections.limited).toEqual({ connections: 0, rate: 2 });
  });

  it("are GET or HEAD of / and /app/*, whatever their query; the rest is the API's", () => {
    expect([
      isPageFile("GET", "/"),
      isPageFile("HEAD", "/app/app.js"),
      isPageFile("GET", "/app/x?v=1"),
    ]).toEqual([true, true, true]);
    for (const [m, u] of [
      ["GET", "/api/nodes"],
      ["GET", "/x/app/"],
      ["POST", "/app/app.js"],
      ["GET", "/application"],
      ["GET", "http://h/app/app.js"],
      ["GET", "/healthz"],
    ] as const)
      expect(isPageFile(m, u), `${m} ${u}`).toBe(false);
    // Ten tabs of one browser opening together and then reloaded together (19 files and 4 API reads
    // each as the page loads, docs/web.md) fit the bounds.
    expect(ADDRESS_PAGE_BURST).toBeGreaterThanOrEqual(10 * 19 * 2);
    expect(ADDRESS_BURST).toBeGreaterThanOrEqual(10 * 4 * 2);
  });
});

describe("one address's connections", () => {
  it("answers the requests of a connection past the bound 429, the others served", async () => {
    const srv = await server({ connections: 2 });
    const a = await rawClient(srv.port);
    const b = await rawClient(srv.port);
    const c = await rawClient(srv.port);
    for (const x of [a, b, c]) x.s.write(request);
    await expect.poll(() => c.got.ended, { timeout: 20_000 }).toBe(true);
    expect(c.statuses()).toEqual(["429"]);
    expect(c.got.text).toContain("more than 2 connections open at once from 127.0.0.1");
    await expect.poll(() => [a.statuses(), b.statuses()], { timeout: 20_000 }).toEqual([["200"], ["200"]]);
    expect(srv.connections.limited).toEqual({ connections: 1, rate: 0 });
    // One gone, a new one takes its place.
    a.s.destroy();
    await expect.poll(() => srv.connections.open, { timeout: 20_000 }).toBe(1);
    const d = await rawClient(srv.port);
    d.s.write(request);
    await expect.poll(() => d.statuses(), { timeout: 20_000 }).toEqual(["200"]);
    for (const x of [b, d]) x.s.destroy();
  });
});

describe("PerAddress", () => {
  it("refills at its rate, and leaves loopback unbounded by default", () => {
    let now = 0;
    const p = new PerAddress({ burst: 3, perSecond: 2 }, () => now);
    const lan = "192.0.2.7";
    expect([1, 2, 3].map(() => p.request(lan, false))).toEqual([undefined, undefined, undefined]);
    expect(p.request(lan, false)).toMatchObject({ bound: "rate", retryAfterS: 1 });
    now += 500;
    expect(p.request(lan, false)).toBeUndefined();
    expect(p.request(lan, false)?.bound).toBe("rate");
    for (const loop of ["127.0.0.1", "::1", "::ffff:127.0.0.9"])
      for (let i = 0; i < 10; i++) expect(p.request(loop, false)).toBeUndefined();
    // Connections: the one past the bound is over it; loopback's never are.
    const q = new PerAddress({ connections: 1 }, () => now);
    expect([q.opened(lan), q.opened(lan), q.opened("127.0.0.1"), q.opened("127.0.0.1")]).toEqual([
      false,
      true,
      false,
      false,
    ]);
    q.closed(lan);
    q.closed(lan);
    expect(q.opened(lan)).toBe(false);
    expect(q.size).toBe(1);
    // Addresses that spent tokens and left are let go once 10,000 have gathered, down to 9,000
    // (web/test/address-blocks.test.ts); the one connected stays.
    for (let i = 0; i < 9_999; i++) q.request(`10.0.${i >> 8}.${i & 255}`, false);
    expect(q.size).toBe(10_000);
    q.request("10.1.0.1", false);
    expect(q.size).toBe(9_001);
    expect(q.opened(lan)).toBe(true);
  });
});
