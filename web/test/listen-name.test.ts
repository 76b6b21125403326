/**
 * A web server given a host name is bound at every address the name resolves to: Fastify bound the
 * first alone, so a name naming ::1 and 127.0.0.1 refused every client that came by 127.0.0.1. The
 * lookup is injected: the name resolves to 127.0.0.1 and 127.0.0.2 (both on loopback on Linux).
 */
import Fastify from "fastify";
import { afterEach, expect, it } from "vitest";
import { httpBind, listenOrRelease } from "../listen.js";

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
  const { addresses } = await httpBind("fleet.test", lookup);
  const at = await listenOrRelease(a, "fleet.test", addresses, 0, () => {});
  expect(at.address).toBe("127.0.0.1");
  // Where to reach it: by the name given, not by the first address it resolved to.
  expect(at.origin).toBe(`http://fleet.test:${at.port}`);
  for (const host of ["127.0.0.1", "127.0.0.2"]) {
    const r = await fetch(`http://${host}:${at.port}/`);
    expect(await r.text()).toBe("ok");
  }
  await a.close();
  await expect(fetch(`http://127.0.0.2:${at.port}/`)).rejects.toThrow();
});

it("shows an address as it is bound, and localhost by its name", async () => {
  const v4 = await listenOrRelease(app(), "127.0.0.1", ["127.0.0.1"], 0, () => {});
  expect(v4.origin).toBe(`http://127.0.0.1:${v4.port}`);
  const local = await listenOrRelease(app(), "localhost", ["127.0.0.1"], 0, () => {});
  expect(local.origin).toBe(`http://localhost:${local.port}`);
});

it("names --http and the name when it does not resolve", async () => {
  const lookup = async () => {
    throw Object.assign(new Error("getaddrinfo ENOTFOUND nope.invalid"), { code: "ENOTFOUND" });
  };
  await expect(httpBind("nope.invalid", lookup)).rejects.toThrow(
    "--http: cannot listen on nope.invalid: host not found (ENOTFOUND)",
  );
});

it("releases what it holds when an address cannot be bound", async () => {
  let released = false;
  await expect(
    listenOrRelease(app(), "odd.test", ["127.0.0.1", "192.0.2.1"], 0, () => (released = true)),
  ).rejects.toThrow(/EADDRNOTAVAIL/);
  expect(released).toBe(true);
});
