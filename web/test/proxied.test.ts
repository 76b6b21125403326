/**
 * A loopback server behind a reverse proxy: a request that carries a forwarding header (what nginx's
 * `proxy_params` sends) comes from wherever the proxy is reached, so its reads need the token and its
 * Host is the site's public name, not a loopback one. Before, such a request was judged as one from
 * this host: with the public name as Host every request, the page included, was a 403; with the
 * proxy's own Host (nginx's default) every read was open to whoever reached the proxy.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { startWebServer, type WebServer } from "../server.js";

const TOKEN = "proxied-token-0123456789";
const SITE = "fleet.example.com";
let server: WebServer;
let source: DemoSource;

beforeAll(async () => {
  const scheduler = new FakeScheduler();
  source = new DemoSource({ nodes: 4, scheduler });
  server = await startWebServer({ source, kind: "monitor", port: 0, token: TOKEN, scheduler });
});
afterAll(async () => {
  await server?.close();
  source?.stop();
});

interface Got {
  readonly status: number;
  readonly body: string;
}

/** One request with exactly these headers (fetch would not send another Host). */
function get(path: string, headers: Record<string, string>, method = "GET"): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.origin}${path}`, { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      // The event stream does not end: its status and first bytes are enough.
      res.on("data", (d: string) => {
        body += d;
        if (path.startsWith("/api/events")) res.destroy();
      });
      res.on("close", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const proxied = (extra: Record<string, string> = {}) => ({
  host: SITE,
  "x-real-ip": "203.0.113.9",
  "x-forwarded-for": "203.0.113.9",
  "x-forwarded-proto": "https",
  ...extra,
});
const bearer = { authorization: `Bearer ${TOKEN}` };

describe("a loopback server behind a reverse proxy", () => {
  it("serves the page and /healthz to a proxied request naming the public site", async () => {
    for (const path of ["/", "/app/app.js", "/healthz"])
      expect((await get(path, proxied())).status, path).toBe(200);
  });

  it("needs the token for a proxied read, and says it came through a proxy", async () => {
    for (const path of ["/api/fleet", "/api/nodes", "/metrics", "/api/events"]) {
      const r = await get(path, proxied());
      expect(r.status, path).toBe(401);
      expect(JSON.parse(r.body).detail, path).toMatch(/^a read through a reverse proxy needs Authorization/);
      expect((await get(path, proxied(bearer))).status, path).toBe(200);
    }
  });

  it.each([
    ["forwarded", "for=203.0.113.9;proto=https"],
    ["x-forwarded-for", "203.0.113.9"],
    ["x-forwarded-host", SITE],
    ["x-forwarded-proto", "https"],
    ["x-real-ip", "203.0.113.9"],
    ["via", "1.1 proxy"],
  ])("takes %s as the mark of a proxied request, with the proxy's own Host too", async (name, value) => {
    const host = `127.0.0.1:${server.port}`;
    expect((await get("/api/nodes", { host, [name]: value })).status).toBe(401);
    expect((await get("/api/nodes", { host, [name]: value, ...bearer })).status).toBe(200);
  });

  it("keeps a request from this host as it was: reads open, another Host name refused", async () => {
    expect((await get("/api/nodes", { host: `127.0.0.1:${server.port}` })).status).toBe(200);
    // DNS rebinding: a page whose name was pointed at 127.0.0.1.
    expect((await get("/api/nodes", { host: SITE })).status).toBe(403);
    // The same page adding a forwarding header of its own gains nothing: no token, no read.
    const r = await get("/api/nodes", { host: SITE, "x-forwarded-for": "1.2.3.4" });
    expect(r.status).toBe(401);
    expect(r.body).not.toContain(source.nodes()[0]?.id ?? "?");
  });

  it("still needs the token for a proxied write", async () => {
    const id = source.nodes()[0]?.id ?? "";
    expect((await get(`/api/nodes/${id}/press`, proxied(), "POST")).status).toBe(401);
  });
});
