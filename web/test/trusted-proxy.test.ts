/**
 * A reverse proxy the site trusts (`--http-trusted-proxy`, web/client-address.ts): each client it
 * names in `X-Forwarded-For` is bounded on its own, and the proxy's connections, which carry all of
 * them, are not bounded by address nor closed on one client's 429. Before, a proxy on another host
 * was one address for all its clients: 15 operators behind one, 10 page loads each, had 2,873 of
 * 3,450 requests refused. The header of anyone not trusted is not read (a client cannot leave its
 * bound by writing one), and a trusted proxy's header naming no address leaves the request the
 * proxy's own, told in a WARN line and counted on /metrics. The tests bound loopback to stand for a
 * LAN address, on a clock that stands.
 */
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { type AddressBounds, PerAddress } from "../address-bounds.js";
import { clientOf, TrustedProxies } from "../client-address.js";
import { connectionMetrics } from "../connection-metrics.js";
import { httpApp } from "../http-app.js";
import { rawClient } from "./raw-client.js";

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** An app whose one route answers at once, loopback bounded by `perAddress` like any address. */
async function server(perAddress: AddressBounds) {
  const warned: { fields: Record<string, unknown>; text: string }[] = [];
  const h = httpApp({
    rules: { loopback: true, token: "t".repeat(32) },
    connections: { perAddress: { exempt: () => false, ...perAddress } },
    scheduler: new FakeScheduler(),
    warn: (fields, text) => warned.push({ fields, text }),
  });
  h.app.get("/small", async () => "ok");
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  apps.push(h.app);
  return { ...h, warned, port: (h.app.server.address() as { port: number }).port };
}

const proxyIsLoopback = new TrustedProxies([{ address: "127.0.0.1" }]);
const someOtherProxy = new TrustedProxies([{ address: "192.0.2.10" }]);

/** A request naming `header` (`X-Forwarded-For: 198.51.100.1`) or none; a proxied read needs the token. */
const request = (header?: string) =>
  `GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${"t".repeat(32)}\r\n${header === undefined ? "" : `${header}\r\n`}\r\n`;

describe("a trusted proxy's clients", () => {
  it("are each bounded by the address the proxy names, on the proxy's one connection, which a 429 leaves open", async () => {
    const srv = await server({ burst: 2, perSecond: 1, trustedProxies: proxyIsLoopback });
    const proxy = await rawClient(srv.port);
    const a = request("X-Forwarded-For: 198.51.100.1");
    const b = request("X-Forwarded-For: 198.51.100.2");
    expect([await proxy.send(a), await proxy.send(a), await proxy.send(b), await proxy.send(b)]).toEqual([
      "200",
      "200",
      "200",
      "200",
    ]);
    expect(await proxy.send(a)).toBe("429");
    const refusal = proxy.got.text.slice(proxy.got.text.lastIndexOf("HTTP/1.1 429"));
    expect(refusal).toContain(
      "more than 1 requests a second (bursts of 2) from 198.51.100.1 (by way of 127.0.0.1): retry in 1 s",
    );
    expect(refusal).not.toMatch(/\r\nconnection: close\r\n/i);
    expect(srv.warned.map((w) => w.fields)).toEqual([
      { remote: "198.51.100.1", bound: "rate", via: "127.0.0.1" },
    ]);
    expect(srv.warned[0]?.text).toContain("refused requests from 198.51.100.1 (by way of 127.0.0.1) (429)");
    // The connection carries the next client's request: a third client is served, the second refused.
    expect(await proxy.send(request("X-Forwarded-For: 198.51.100.3"))).toBe("200");
    expect(await proxy.send(b)).toBe("429");
    expect(proxy.got.ended).toBe(false);
    expect(srv.connections.limited).toEqual({ connections: 0, rate: 2 });
    proxy.s.destroy();
  });

  it("are named by the right-most entry that is not a trusted proxy, whatever the client wrote to its left", async () => {
    const srv = await server({ burst: 1, perSecond: 1, trustedProxies: proxyIsLoopback });
    const proxy = await rawClient(srv.port);
    // A client that forges entries is still named by the one its proxy appended.
    expect(await proxy.send(request("X-Forwarded-For: 203.0.113.1, 198.51.100.1"))).toBe("200");
    expect(await proxy.send(request("X-Forwarded-For: 203.0.113.2, 198.51.100.1, 127.0.0.1"))).toBe("429");
    expect(proxy.got.text).toContain("from 198.51.100.1 (by way of 127.0.0.1)");
    proxy.s.destroy();
  });

  it("do not count against the proxy's connections, which are not bounded by address", async () => {
    const srv = await server({ connections: 1, trustedProxies: proxyIsLoopback });
    const conns = await Promise.all([1, 2, 3].map(() => rawClient(srv.port)));
    const answers = await Promise.all(
      conns.map((c, i) => c.send(request(`X-Forwarded-For: 198.51.100.${i}`))),
    );
    expect(answers).toEqual(["200", "200", "200"]);
    expect(srv.connections.limited).toEqual({ connections: 0, rate: 0 });
    for (const c of conns) c.s.destroy();
  });
});

describe("a client named loopback by a proxy", () => {
  it("is bounded like any other: loopback's exemption is this host's own connections'", () => {
    const p = new PerAddress({ burst: 1, trustedProxies: someOtherProxy }, () => 0);
    expect(p.request("127.0.0.1", false, false, "192.0.2.10")).toBeUndefined();
    expect(p.request("127.0.0.1", false, false, "192.0.2.10")?.detail).toBe(
      "more than 20 requests a second (bursts of 1) from 127.0.0.1 (by way of 192.0.2.10): retry in 1 s",
    );
    // Loopback's own connections, and a loopback proxy's own requests, stay unbounded.
    expect([1, 2, 3].map(() => p.request("127.0.0.1", false))).toEqual([undefined, undefined, undefined]);
    expect([1, 2].map(() => p.request("127.0.0.1", false, false, "127.0.0.1"))).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe("forwarding headers not believed", () => {
  it("from an address that is not a trusted proxy, bound that address whatever clients they name", async () => {
    const srv = await server({ burst: 2, perSecond: 1, trustedProxies: someOtherProxy });
    const c = await rawClient(srv.port);
    expect(await c.send(request("X-Forwarded-For: 198.51.100.1"))).toBe("200");
    expect(await c.send(request("Forwarded: for=198.51.100.2"))).toBe("200");
    expect(await c.send(request("X-Forwarded-For: 198.51.100.3"))).toBe("429");
    expect(c.got.text).toContain("more than 1 requests a second (bursts of 2) from 127.0.0.1: retry in 1 s");
    await expect.poll(() => c.got.ended, { timeout: 20_000 }).toBe(true);
  });

  it("from a trusted proxy naming no address, bound the proxy itself and are told once in the log", async () => {
    const srv = await server({ burst: 2, perSecond: 1, trustedProxies: proxyIsLoopback });
    const proxy = await rawClient(srv.port);
    const garbled = request("X-Forwarded-For: 198.51.100.1, garbage");
    expect([await proxy.send(garbled), await proxy.send(garbled), await proxy.send(garbled)]).toEqual([
      "200",
      "200",
      "429",
    ]);
    expect(proxy.got.text).toContain(
      "more than 1 requests a second (bursts of 2) from 127.0.0.1: retry in 1 s",
    );
    // Its clients named well are still bounded each on their own.
    expect(await proxy.send(request("X-Forwarded-For: 198.51.100.1"))).toBe("200");
    // Each counted on /metrics, where the log tells one a minute.
    expect(srv.connections.forwardedBad).toBe(3);
    const registry = new Registry();
    connectionMetrics(registry, "twinfleet_", srv.connections);
    expect(await registry.metrics()).toMatch(/\ntwinfleet_web_forwarded_header_bad_total 3\n/);
    const told = srv.warned.filter((w) => w.fields.header !== undefined);
    expect(told).toEqual([
      {
        fields: {
          remote: "127.0.0.1",
          header: 'X-Forwarded-For: the entry "garbage" names no client address',
        },
        text: 'web: a request from the trusted proxy 127.0.0.1 is bounded as the proxy itself: X-Forwarded-For: the entry "garbage" names no client address; at most one such line a minute',
      },
    ]);
    proxy.s.destroy();
  });
});

describe("--http-client-bounds off", () => {
  it("bounds no address", async () => {
    const srv = await server({ burst: 1, perSecond: 1, connections: 1, off: true });
    const conns = await Promise.all([1, 2].map(() => rawClient(srv.port)));
    for (const c of conns) expect([await c.send(request()), await c.send(request())]).toEqual(["200", "200"]);
    expect(srv.connections.limited).toEqual({ connections: 0, rate: 0 });
    for (const c of conns) c.s.destroy();
  });
});

describe("clientOf", () => {
  const trusted = new TrustedProxies([{ address: "192.0.2.0", prefix: 24 }, { address: "2001:db8::1" }]);
  const of = (remote: string, headers: Record<string, string>) => clientOf(remote, headers, trusted);

  it("reads X-Forwarded-For, else Forwarded, of a trusted proxy only; ports, brackets and spellings taken off", () => {
    expect(of("203.0.113.5", { "x-forwarded-for": "198.51.100.1" })).toEqual({ address: "203.0.113.5" });
    expect(of("::ffff:192.0.2.9", { "x-forwarded-for": "198.51.100.1:4711" })).toEqual({
      address: "198.51.100.1",
      via: "::ffff:192.0.2.9",
    });
    expect(of("2001:db8:0::1", { "x-forwarded-for": "[2001:DB8::0:7]:443, 192.0.2.3" }).address).toBe(
      "2001:db8::7",
    );
    expect(
      of("192.0.2.9", {
        forwarded: 'for=198.51.100.9;proto=https, for="[2001:db8::1]:80";by=x',
        "x-real-ip": "1.1.1.1",
      }),
    ).toEqual({ address: "198.51.100.9", via: "192.0.2.9" });
    // X-Forwarded-For first: the header nginx, HAProxy, Caddy and Traefik append to.
    expect(
      of("192.0.2.9", { "x-forwarded-for": "198.51.100.2", forwarded: "for=198.51.100.3" }).address,
    ).toBe("198.51.100.2");
    // Every hop a trusted proxy: the first is the client. None given: the proxy's own request.
    expect(of("192.0.2.9", { "x-forwarded-for": "192.0.2.4, 192.0.2.5" }).address).toBe("192.0.2.4");
    expect(of("192.0.2.9", {})).toEqual({ address: "192.0.2.9", via: "192.0.2.9" });
    // A proxy given as IPv4 mapped into IPv6 is that IPv4 address, however the socket spells it.
    const mapped = new TrustedProxies([{ address: "::ffff:192.0.2.10" }]);
    expect([mapped.has("192.0.2.10"), mapped.has("::ffff:192.0.2.10"), mapped.has("192.0.2.11")]).toEqual([
      true,
      true,
      false,
    ]);
    // A link-local address with its zone, from the socket or the header.
    expect(of("fe80::1%eth0", { "x-forwarded-for": "198.51.100.1" })).toEqual({ address: "fe80::1%eth0" });
    expect(of("2001:db8::1", { "x-forwarded-for": "fe80::2%eth0" })).toEqual({
      address: "fe80::2",
      via: "2001:db8::1",
    });
  });

  it("leaves a request whose header names no client the proxy's, saying why", () => {
    for (const [headers, why] of [
      [{ "x-forwarded-for": "unknown" }, 'X-Forwarded-For: the entry "unknown" names no client address'],
      [{ "x-forwarded-for": " , " }, "X-Forwarded-For: names no address"],
      [{ forwarded: 'for="_hidden"' }, 'Forwarded: the entry "_hidden" names no client address'],
      [{ forwarded: "proto=https" }, 'Forwarded: the entry "proto=https" names no client address'],
      [
        { "x-forwarded-for": "198.51.100.1:99999" },
        'X-Forwarded-For: the entry "198.51.100.1:99999" names no client address',
      ],
    ] as const)
      expect(of("192.0.2.9", headers), why).toEqual({
        address: "192.0.2.9",
        via: "192.0.2.9",
        malformed: why,
      });
  });
});
