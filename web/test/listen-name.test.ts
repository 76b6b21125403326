/**
 * A web server given a host name is bound at every address the name resolves to: Fastify bound the
 * first alone, so a name naming ::1 and 127.0.0.1 refused every client that came by 127.0.0.1. The
 * lookup is injected: the name resolves to 127.0.0.1 and 127.0.0.2 (both on loopback on Linux).
 */
import Fastify from "fastify";
import { afterEach, expect, it } from "vitest";
import { listenOrRelease } from "../listen.js";

const apps: ReturnType<typeof Fastify>[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function app() {
  const a = Fastify();
  a.get("/", async () => "ok");
  apps.push(a);
  return a;
}

it("answers at each address of the name, on one port, and lets go of all of them on close", async () => {
  const a = app();
  const lookup = async (host: string) => (host === "fleet.test" ? ["127.0.0.1", "127.0.0.2"] : []);
  const at = await listenOrRelease(a, "fleet.test", 0, () => {}, lookup);
  expect(at.address).toBe("127.0.0.1");
  for (const host of ["127.0.0.1", "127.0.0.2"]) {
    const r = await fetch(`http://${host}:${at.port}/`);
    expect(await r.text()).toBe("ok");
  }
  await a.close();
  await expect(fetch(`http://127.0.0.2:${at.port}/`)).rejects.toThrow();
});

it("names --http and the name when it does not resolve, and releases what it holds", async () => {
  let released = false;
  const lookup = async () => {
    throw Object.assign(new Error("getaddrinfo ENOTFOUND nope.invalid"), { code: "ENOTFOUND" });
  };
  await expect(listenOrRelease(app(), "nope.invalid", 0, () => (released = true), lookup)).rejects.toThrow(
    "--http: cannot listen on nope.invalid: host not found (ENOTFOUND)",
  );
  expect(released).toBe(true);
});
