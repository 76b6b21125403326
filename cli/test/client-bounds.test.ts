/**
 * `--http-trusted-proxy` and `--http-client-bounds` (cli/client-bounds.ts): what they take, and every
 * fault a usage error (exit 2) naming the flag and the part at fault, on both web servers (`twins
 * --http` and `broker --http`), before anything starts; and given, the bounds each server keeps.
 */
import { pino } from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { parseClientBounds, parseTrustedProxies } from "../client-bounds.js";
import { UsageError } from "../errors.js";
import { type HttpOptions, resolveHttpOptions, serveBrokerHttp, serveWeb } from "../http.js";
import { runMain } from "./run-main.js";

describe("--http-client-bounds", () => {
  it("takes any of conns, api and files, the rest left at their defaults, or off", () => {
    expect(parseClientBounds("conns=64,api=40/200,files=80/800")).toEqual({
      connections: 64,
      perSecond: 40,
      burst: 200,
      pagePerSecond: 80,
      pageBurst: 800,
    });
    expect(parseClientBounds("api=0.5/10")).toEqual({ perSecond: 0.5, burst: 10 });
    expect(parseClientBounds("off")).toEqual({ off: true });
  });

  it("refuses a bound it cannot keep, naming the part at fault", () => {
    for (const [text, why] of [
      ["", '"" is not conns=N'],
      ["conns", '"conns" is not conns=N'],
      ["cons=5", '"cons=5" is not conns=N'],
      ["OFF", '"OFF" is not conns=N'],
      ["conns=0", "conns=0: must be a whole number from 1 to 1000000"],
      ["conns=1.5", "conns=1.5: must be a whole number"],
      ["conns=2000000", "conns=2000000: must be a whole number from 1 to 1000000"],
      ["api=20", "api=20 is not RATE/BURST"],
      ["api=20/100/5", "api=20/100/5 is not RATE/BURST"],
      ["api=0/100", "api=0/100: the rate must be a number of requests a second above 0"],
      [
        "files=1e3/5",
        "the rate must be a number of requests a second above 0, at most 1000000 (plain decimal",
      ],
      ["files=40/0", "files=40/0: must be a whole number from 1 to 1000000"],
      ["api=20/100,api=40/200", "api is given more than once"],
      ["conns=8,", '"" is not conns=N'],
    ] as const)
      expect(() => parseClientBounds(text), text).toThrow(
        new RegExp(`^--http-client-bounds: .*${literal(why)}`),
      );
  });
});

describe("--http-trusted-proxy", () => {
  it("takes addresses and networks, IPv4 and IPv6", () => {
    expect(parseTrustedProxies("192.0.2.10, 2001:db8::7,198.51.100.0/24,2001:db8:1::/48")).toEqual([
      { address: "192.0.2.10" },
      { address: "2001:db8::7" },
      { address: "198.51.100.0", prefix: 24 },
      { address: "2001:db8:1::", prefix: 48 },
    ]);
  });

  it("refuses a name, an empty entry or a prefix out of range", () => {
    for (const [text, why] of [
      ["proxy.example.com", '"proxy.example.com" is not an IP address or network'],
      ["192.0.2.10,", "has an empty entry"],
      ["", "has an empty entry"],
      ["192.0.2.0/33", '"192.0.2.0/33": the prefix length must be 0 to 32'],
      ["2001:db8::/129", "the prefix length must be 0 to 128"],
      ["192.0.2.0/024", "the prefix length must be 0 to 32"],
      ["192.0.2.0/", "is not an IP address or network"],
      ["192.0.2.300", "is not an IP address or network"],
    ] as const)
      expect(() => parseTrustedProxies(text), text).toThrow(
        new RegExp(`^--http-trusted-proxy: .*${literal(why)}`),
      );
  });

  it("refuses a network so wide that any client could name itself, pointing at --http-client-bounds off", () => {
    for (const [text, why] of [
      ["0.0.0.0/0", '"0.0.0.0/0" is wider than a /8 of IPv4'],
      ["11.0.0.0/7", "is wider than a /8 of IPv4"],
      ["::/0", '"::/0" takes in every IPv4 address (::ffff:0.0.0.0/96)'],
      ["::/80", "takes in every IPv4 address (::ffff:0.0.0.0/96)"],
      ["::ffff:0.0.0.0/96", "takes in every IPv4 address (::ffff:0.0.0.0/96)"],
      ["::ffff:10.0.0.0/103", "is wider than a /8 of IPv4"],
      ["2000::/3", '"2000::/3" is wider than a /32 of IPv6'],
      ["192.0.2.10,2001:db8::/31", "is wider than a /32 of IPv6"],
    ] as const)
      expect(() => parseTrustedProxies(text), text).toThrow(
        new RegExp(
          `^--http-trusted-proxy: .*${literal(why)}: a client anywhere in it could name itself.*give --http-client-bounds off$`,
        ),
      );
    // The widest each family keeps: a /8 of IPv4 (10.0.0.0/8), a /32 of IPv6.
    expect(
      parseTrustedProxies("10.0.0.0/8,::ffff:10.0.0.0/104,2001:db8::/32,0.0.0.0").map((p) => p.prefix),
    ).toEqual([8, 104, 32, undefined]);
  });

  it("reach the server's options with --http, and need it", async () => {
    const http = await resolveHttpOptions(
      { http: "0", httpTrustedProxy: "192.0.2.10", httpClientBounds: "conns=64" },
      {},
    );
    expect(http?.clientBounds?.connections).toBe(64);
    expect(http?.clientBounds?.trustedProxies?.has("::ffff:192.0.2.10")).toBe(true);
    expect(http?.clientBounds?.trustedProxies?.has("192.0.2.11")).toBe(false);
    expect((await resolveHttpOptions({ http: "0" }, {}))?.clientBounds).toBeUndefined();
    await expect(resolveHttpOptions({ httpClientBounds: "off" }, {})).rejects.toThrow(UsageError);
  });
});

describe("both web servers", () => {
  /** The flags' options, loopback bounded as well (it is not, by default) to stand for a LAN client. */
  async function boundedLoopback(bounds: string): Promise<HttpOptions> {
    const http = (await resolveHttpOptions(
      { http: "127.0.0.1:0", httpClientBounds: bounds },
      {},
    )) as HttpOptions;
    return { ...http, clientBounds: { ...http.clientBounds, exempt: () => false } };
  }
  const logger = pino({ level: "silent" });

  it("are given the bounds the flags set: twins --http and broker --http", async () => {
    const http = await boundedLoopback("api=1/1");
    const source = new DemoSource({ nodes: 2, scheduler: new FakeScheduler() });
    const web = await serveWeb(source, "monitor", http, { logger, scheduler: new FakeScheduler() });
    onTestFinished(async () => {
      await web.close();
      source.stop();
    });
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    onTestFinished(() => broker.close());
    // Where it serves is told in its start line alone.
    const lines: string[] = [];
    const told = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const metrics = await serveBrokerHttp(broker.figures, http, { logger: told });
    onTestFinished(() => metrics.close());
    const brokerOrigin = /metrics: (http:\/\/[^/]+)\/metrics/.exec(lines.join(""))?.[1] ?? "";
    for (const origin of [web.origin, brokerOrigin]) {
      expect((await fetch(`${origin}/healthz`)).status, origin).toBe(200);
      const refused = await fetch(`${origin}/healthz`);
      expect(refused.status, origin).toBe(429);
      expect(await refused.text()).toContain("more than 1 requests a second (bursts of 1) from 127.0.0.1");
    }
  });

  it.each([
    [["twins", "--broker", "mqtt://127.0.0.1:1", "--http", "0", "--http-client-bounds", "api=20"]],
    [["broker", "--port", "0", "--http", "0", "--http-client-bounds", "api=20"]],
  ])("exit 2 naming the flag: %j", async (argv) => {
    const r = await runMain(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--http-client-bounds: api=20 is not RATE/BURST");
  });

  it.each([
    [["twins", "--broker", "mqtt://127.0.0.1:1", "--http", "0", "--http-trusted-proxy", "nginx"]],
    [["broker", "--port", "0", "--http-trusted-proxy", "192.0.2.10"]],
    [["twins", "--broker", "mqtt://127.0.0.1:1", "--http", "0", "--http-trusted-proxy", "0.0.0.0/0"]],
  ])("exit 2 on a bad proxy, or one without --http: %j", async (argv) => {
    const r = await runMain(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /--http-trusted-proxy: "nginx" is not an IP address|--http-trusted-proxy and --http-client-bounds need --http|--http-trusted-proxy: "0\.0\.0\.0\/0" is wider than a \/8 of IPv4/,
    );
  });
});

function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
