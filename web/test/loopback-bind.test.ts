/**
 * Loopback or not is judged by the addresses a host resolves to, which are the ones bound, not by
 * its name. `--http vm:8080`, `vm` naming 127.0.0.1 alone, is a loopback bind (reads open, `vm` a
 * Host the server answers to); before, the name was judged, and `vm` counted as beyond loopback. The
 * reverse: `localhost` naming a LAN address too (an odd /etc/hosts) was judged loopback by its name
 * while Fastify bound it at every address, reads open beyond loopback. The lookup is injected; the
 * "LAN" address is the wildcard 0.0.0.0 (bindable anywhere, not loopback) beside ::1.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { RunningBroker } from "../../broker/server.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { startBrokerHttp } from "../broker-server.js";
import { httpBind } from "../listen.js";
import { startWebServer } from "../server.js";

const TOKEN = "loopback-bind-token-0123456789";
const HOSTS: Readonly<Record<string, readonly string[]>> = {
  "vm.test": ["127.0.0.1"],
  localhost: ["::1", "0.0.0.0"],
  "mixed.test": ["::1", "0.0.0.0"],
};
const lookup = async (host: string) => HOSTS[host] ?? [];

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** One GET at 127.0.0.1 with exactly these headers (fetch would not send another Host). */
function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

async function webServer(host: string) {
  const scheduler = new FakeScheduler();
  const source = new DemoSource({ nodes: 2, scheduler });
  const server = await startWebServer({
    source,
    kind: "monitor",
    host,
    port: 0,
    token: TOKEN,
    scheduler,
    lookup,
  });
  closers.push(async () => {
    await server.close();
    source.stop();
  });
  return server;
}

async function brokerHttp(host: string) {
  const broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0 });
  closers.push(() => broker.close());
  const http = await startBrokerHttp({ figures: broker.figures, host, port: 0, token: TOKEN, lookup });
  closers.push(() => http.close());
  return http;
}

it("judges a bind by its addresses: all on loopback, or not", async () => {
  expect(await httpBind("vm.test", lookup)).toEqual({ addresses: ["127.0.0.1"], loopback: true });
  expect((await httpBind("mixed.test", lookup)).loopback).toBe(false);
  expect((await httpBind("localhost", lookup)).loopback).toBe(false);
  for (const address of ["127.0.0.1", "127.3.2.1", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])
    expect((await httpBind(address)).loopback, address).toBe(true);
  for (const address of ["0.0.0.0", "::", "192.168.1.20", "::ffff:10.0.0.1"])
    expect((await httpBind(address)).loopback, address).toBe(false);
});

describe.each([
  ["the web server", webServer, "/api/fleet"],
  ["the broker's /metrics", brokerHttp, "/metrics"],
] as const)("%s", (_what, start, read) => {
  it("opens reads on a name naming loopback alone, by that name and by loopback ones", async () => {
    const s = await start("vm.test");
    expect(await get(s.port, read, { host: `vm.test:${s.port}` })).toBe(200);
    expect(await get(s.port, read, { host: `VM.test.:${s.port}` })).toBe(200);
    expect(await get(s.port, read, { host: `127.0.0.1:${s.port}` })).toBe(200);
    // A rebound page's own name is still refused.
    expect(await get(s.port, read, { host: `evil.example:${s.port}` })).toBe(403);
  });

  it("needs the token on localhost naming a non-loopback address too, even at 127.0.0.1", async () => {
    const s = await start("localhost");
    expect(await get(s.port, read, { host: `localhost:${s.port}` })).toBe(401);
    expect(await get(s.port, read, { host: `localhost:${s.port}`, authorization: `Bearer ${TOKEN}` })).toBe(
      200,
    );
  });
});

it("needs the token from a client not on loopback, whatever the bind was judged", async () => {
  const s = await webServer("127.0.0.1");
  const from = async (remoteAddress: string) =>
    (await s.app.inject({ method: "GET", url: "/api/fleet", remoteAddress, headers: { host: "127.0.0.1" } }))
      .statusCode;
  expect(await from("127.0.0.1")).toBe(200);
  expect(await from("192.168.1.9")).toBe(401);
});
