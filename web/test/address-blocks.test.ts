/**
 * What one bound is kept for (web/address-bounds.ts): an IPv6 client's /64, where one host may use
 * any address (20 addresses of one /64 named by a trusted proxy had 2,000 requests answered where
 * one address of it had 104 of 150); and the table of addresses past 10,000, where an address held
 * at its bound used to be let go with every other address without a connection, 10,001 others named
 * by a trusted proxy giving it a full burst again. On the bounds' own unit, with addresses given and
 * a clock that stands.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { PerAddress } from "../address-bounds.js";
import { boundBlock, TrustedProxies } from "../client-address.js";
import { ConnectionWarnings } from "../connection-warnings.js";

const proxy = "192.0.2.10";
const trusted = new TrustedProxies([{ address: proxy }]);

describe("an IPv6 client", () => {
  it("is bounded with the rest of its /64: another address of it has no burst of its own", () => {
    const p = new PerAddress({ burst: 3, perSecond: 1, trustedProxies: trusted }, () => 0);
    for (const a of ["2001:db8::1", "2001:db8::2", "2001:db8::ffff:1"])
      expect(p.request(a, false, false, proxy), a).toBeUndefined();
    const refused = p.request("2001:db8::3", false, false, proxy);
    expect(refused).toMatchObject({ address: "2001:db8::3", bound: "rate", block: "2001:db8::/64" });
    expect(refused?.detail).toBe(
      "more than 1 requests a second (bursts of 3) from 2001:db8::3 (bounded with the rest of 2001:db8::/64) (by way of 192.0.2.10): retry in 1 s",
    );
    // Another /64 (of the same /48) is another client.
    expect(p.request("2001:db8:0:1::1", false, false, proxy)).toBeUndefined();
    expect(p.size).toBe(2);
  });

  it("has its /64's connections counted together; IPv4, mapped or not, and link-local stay per address", () => {
    const p = new PerAddress({ connections: 2, exempt: () => false }, () => 0);
    expect(["2001:db8::a", "2001:db8::b", "2001:db8::c"].map((a) => p.opened(a))).toEqual([
      false,
      false,
      true,
    ]);
    expect(p.request("2001:db8::c", true)?.detail).toBe(
      "more than 2 connections open at once from 2001:db8::c (bounded with the rest of 2001:db8::/64): close some, or retry in 1 s",
    );
    p.closed("2001:db8::a");
    expect(p.opened("2001:db8::d")).toBe(true);
    // An IPv4 client is its own address however the socket spells it.
    expect(["192.0.2.7", "::ffff:192.0.2.7", "192.0.2.8"].map((a) => p.opened(a))).toEqual([
      false,
      false,
      false,
    ]);
    expect(p.request("192.0.2.7", false)?.block).toBeUndefined();
    // Every link's hosts share fe80::/64: a link-local client is its own address.
    expect(["fe80::1%eth0", "fe80::2%eth0", "fe80::3%eth1"].map((a) => p.opened(a))).toEqual([
      false,
      false,
      false,
    ]);
  });

  it("on loopback (::1) is not bounded, nor is its /64", () => {
    const p = new PerAddress({ burst: 1, perSecond: 1 }, () => 0);
    for (let i = 0; i < 5; i++) expect(p.request("::1", false)).toBeUndefined();
    expect(p.size).toBe(0);
  });

  it("is told in the log by its /64", () => {
    const lines: { fields: Record<string, unknown>; text: string }[] = [];
    const scheduler = new FakeScheduler();
    const warnings = new ConnectionWarnings(scheduler, (fields, text) => lines.push({ fields, text }), 32);
    const p = new PerAddress({ burst: 1, perSecond: 1, trustedProxies: trusted }, () => 0);
    for (const a of ["2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4"]) {
      const r = p.request(a, false, false, proxy);
      if (r !== undefined) warnings.refused(r);
    }
    scheduler.advance(60_000);
    expect(lines.map((l) => l.text)).toEqual([
      "web: refused requests from 2001:db8::2 (bounded with the rest of 2001:db8::/64) (by way of 192.0.2.10) (429): more than 1 requests a second (bursts of 1); at most one such line a minute",
      "web: 2 more requests refused 429 in the last minute for their address's bound: 2001:db8::/64 ×2",
    ]);
    expect(lines[0]?.fields).toEqual({
      remote: "2001:db8::2",
      bound: "rate",
      block: "2001:db8::/64",
      via: proxy,
    });
    warnings.stop();
  });

  it("is keyed as its /64 however it is written", () => {
    expect(
      ["2001:DB8:0:0:1::1", "2001:db8::", "2001:db8:1:2:3:4:5:6", "[2001:db8::1]", "::ffff:198.51.100.1"].map(
        (a) => boundBlock(a.replace(/^\[|\]$/g, "")),
      ),
    ).toEqual(["2001:db8::/64", "2001:db8::/64", "2001:db8:1:2::/64", "2001:db8::/64", "198.51.100.1"]);
  });
});

describe("the table of addresses, past 10,000", () => {
  it("keeps an address held at its bound when 10,000 others, named by a trusted proxy, push it", () => {
    let now = 0;
    const p = new PerAddress({ burst: 3, perSecond: 1, trustedProxies: trusted }, () => now);
    const hostile = "198.51.100.66";
    for (let i = 0; i < 3; i++) expect(p.request(hostile, false, false, proxy)).toBeUndefined();
    expect(p.request(hostile, false, false, proxy)?.bound).toBe("rate");
    // 10,001 other addresses, one request each, through the same proxy.
    for (let i = 0; i <= 10_000; i++)
      p.request(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, false, false, proxy);
    expect(p.size).toBeLessThanOrEqual(10_000);
    expect(p.request(hostile, false, false, proxy)?.bound).toBe("rate");
    // Its bound refills as ever: a second later it has one request.
    now += 1000;
    expect(p.request(hostile, false, false, proxy)).toBeUndefined();
    expect(p.request(hostile, false, false, proxy)?.bound).toBe("rate");
  });

  it("lets go of those holding most of their bursts first, never one with a connection open", () => {
    const p = new PerAddress({ burst: 10, perSecond: 1, connections: 1, exempt: () => false }, () => 0);
    expect(p.opened("192.0.2.1")).toBe(false);
    // 9,999 addresses that each spent one request of ten: at 10,000, a new one lets 1,000 of them go.
    for (let i = 0; i < 9_999; i++) p.request(`10.0.${i >> 8}.${i & 255}`, false);
    expect(p.size).toBe(10_000);
    p.request("10.1.0.1", false);
    expect(p.size).toBe(9_001);
    // The connected one is still counted: its second connection is over the bound.
    expect(p.opened("192.0.2.1")).toBe(true);
  });
});
