/**
 * What the per-address limits count a client under (broker/address-key.ts): an IPv4 address whole,
 * an IPv4-mapped IPv6 address as its IPv4 address, an IPv6 address as its /64 (or `ipv6PrefixBits`);
 * the limits wired with it (several addresses of one /64 share one pending cap and one ban); and on
 * a real socket from ::1, the log line naming the prefix counted.
 */
import { connect as connectTcp, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import { Aedes } from "aedes";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { guardAedes } from "../abuse-guard.js";
import { addressKey } from "../address-key.js";
import { resolveBrokerOptions } from "../options.js";
import { type RunningBroker, startBroker } from "../server.js";
import { closed } from "./helpers.js";

function logLines() {
  const lines: { msg: string; level: number; [k: string]: unknown }[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, logger };
}

describe("addressKey", () => {
  it("counts IPv4 whole, and an IPv4-mapped address as its IPv4 address", () => {
    expect(addressKey("10.0.4.17")).toBe("10.0.4.17");
    expect(addressKey("::ffff:10.0.4.17")).toBe("10.0.4.17");
    expect(addressKey("::FFFF:10.0.4.17")).toBe("10.0.4.17");
    expect(addressKey("::ffff:a00:411")).toBe("10.0.4.17");
    expect(addressKey(undefined)).toBe("unknown");
  });

  it("counts IPv6 per /64, named as the prefix in RFC 5952 text", () => {
    expect(addressKey("2001:db8::1:1")).toBe("2001:db8::/64");
    expect(addressKey("2001:db8:0:0:8d3a:11ff:fe2b:7c01")).toBe("2001:db8::/64");
    expect(addressKey("2001:DB8:AA:BB:CC::1")).toBe("2001:db8:aa:bb::/64");
    expect(addressKey("fd00:1:2:3:4:5:6:7")).toBe("fd00:1:2:3::/64");
    expect(addressKey("2001:db8:0:1::99")).toBe("2001:db8:0:1::/64");
    expect(addressKey("::1")).toBe("::/64");
    expect(addressKey("64:ff9b::192.0.2.33")).toBe("64:ff9b::/64");
  });

  it("keeps a link-local address's zone: one key per link", () => {
    expect(addressKey("fe80::1%eth0")).toBe("fe80::/64%eth0");
    expect(addressKey("fe80::2%eth1")).toBe("fe80::/64%eth1");
  });

  it("takes other prefix lengths, 128 being each address alone", () => {
    expect(addressKey("2001:db8:aa:bbcc::1", 56)).toBe("2001:db8:aa:bb00::/56");
    expect(addressKey("2001:db8:aa:bbcc::1", 48)).toBe("2001:db8:aa::/48");
    expect(addressKey("2001:db8:aa:bbcc::1", 1)).toBe("::/1");
    expect(addressKey("2001:0db8::0001", 128)).toBe("2001:db8::1");
    expect(addressKey("::ffff:10.0.4.17", 128)).toBe("10.0.4.17");
  });
});

describe("the limits wired with it", () => {
  it("gives several addresses of one /64 one pending cap, another /64 and an IPv4 client their own", async () => {
    const { lines, logger } = logLines();
    const aedes = await Aedes.createBroker();
    try {
      const opts = resolveBrokerOptions({ maxPendingPerAddress: 3 });
      const admitted = guardAedes(aedes, opts, logger);
      const verdicts = Array.from({ length: 8 }, (_, i) =>
        admitted.admitSocket(new PassThrough(), `2001:db8::1:${i + 1}`),
      );
      expect(verdicts.filter((v) => v !== undefined)).toHaveLength(3);
      expect(admitted.admitSocket(new PassThrough(), "2001:db8:0:1::5")).toBeDefined();
      expect(admitted.admitSocket(new PassThrough(), "::ffff:192.0.2.7")).toBeDefined();
      const warn = lines.find((l) => l.msg.startsWith("connections refused"));
      expect(warn?.address).toBe("2001:db8::/64");
    } finally {
      await new Promise<void>((r) => aedes.close(() => r()));
    }
  });

  it("counts each address alone with ipv6PrefixBits 128", async () => {
    const aedes = await Aedes.createBroker();
    try {
      const opts = resolveBrokerOptions({ maxPendingPerAddress: 3, ipv6PrefixBits: 128 });
      const admitted = guardAedes(aedes, opts, pino({ level: "silent" }));
      const verdicts = Array.from({ length: 8 }, (_, i) =>
        admitted.admitSocket(new PassThrough(), `2001:db8::1:${i + 1}`),
      );
      expect(verdicts.filter((v) => v !== undefined)).toHaveLength(8);
    } finally {
      await new Promise<void>((r) => aedes.close(() => r()));
    }
  });

  it("refuses a prefix length outside 1-128", () => {
    expect(() => resolveBrokerOptions({ ipv6PrefixBits: 0 })).toThrow(/prefix length from 1 to 128/);
    expect(() => resolveBrokerOptions({ ipv6PrefixBits: 129 })).toThrow(/prefix length from 1 to 128/);
  });
});

describe("on a real socket from ::1", () => {
  let broker: RunningBroker | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await broker?.close();
    broker = undefined;
  });

  function socket(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connectTcp({ port, host: "::1" }, () => resolve(s));
      s.once("error", reject);
      s.on("error", () => {});
      sockets.push(s);
    });
  }

  it("names the /64 it counted in the throttle's log line", async () => {
    const { lines, logger } = logLines();
    broker = await startBroker({ host: "::1", port: 0, maxPendingPerAddress: 1, logger });
    await socket(broker.port);
    await closed(await socket(broker.port), 3000);
    const warn = lines.find((l) => l.msg.startsWith("connections refused"));
    expect(warn).toMatchObject({
      msg: "connections refused: address has too many connections before CONNECT",
      address: "::/64",
      limit: 1,
    });
  });
});
