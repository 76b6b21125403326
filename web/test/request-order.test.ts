/**
 * Both web servers — the fleet's (web/server.ts) and the broker's (web/broker-server.ts) — judge a
 * request in the same order, beyond loopback where reads need the token: a path not served is a 404
 * and a method the path does not take a 405 before any token is asked for; then the token (401); then
 * a query parameter the route does not read (400 naming it), on every route but the page's files.
 * A JSON body with a prototype key (`__proto__`, `constructor`, `prototype`) is refused naming it
 * like any unknown field, not as "not JSON".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { RunningBroker } from "../../broker/server.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { type BrokerHttpServer, startBrokerHttp } from "../broker-server.js";
import { startWebServer, type WebServer } from "../server.js";

const TOKEN = "t".repeat(24);
const AUTH = { authorization: `Bearer ${TOKEN}` };

let fleet: WebServer;
let source: DemoSource;
let broker: RunningBroker;
let brokerHttp: BrokerHttpServer;
const origins: Record<string, string> = {};

beforeAll(async () => {
  const scheduler = new FakeScheduler();
  source = new DemoSource({ nodes: 4, scheduler });
  fleet = await startWebServer({
    source,
    kind: "monitor",
    host: "0.0.0.0",
    port: 0,
    token: TOKEN,
    scheduler,
  });
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  brokerHttp = await startBrokerHttp({ figures: broker.figures, host: "0.0.0.0", port: 0, token: TOKEN });
  origins.fleet = `http://127.0.0.1:${fleet.port}`;
  origins.broker = `http://127.0.0.1:${brokerHttp.port}`;
});

afterAll(async () => {
  await fleet.close();
  source.stop();
  await brokerHttp.close();
  await broker.close();
});

async function ask(
  server: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; allow: string | null; detail: string; field: unknown }> {
  const r = await fetch(`${origins[server]}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    ...(body === undefined ? {} : { body }),
  });
  const text = await r.text();
  const json = (() => {
    try {
      return JSON.parse(text) as { detail?: string; field?: unknown };
    } catch {
      return {};
    }
  })();
  return { status: r.status, allow: r.headers.get("allow"), detail: json.detail ?? "", field: json.field };
}

describe.each(["fleet", "broker"])("the %s web server beyond loopback", (server) => {
  it("answers a method a path does not take with 405 and Allow before asking for the token", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const a = await ask(server, method, "/metrics");
      expect(a, method).toMatchObject({
        status: 405,
        allow: "GET, HEAD",
        detail: `${method} is not allowed on /metrics; allowed: GET, HEAD`,
      });
    }
    expect((await ask(server, "DELETE", "/healthz")).status).toBe(405);
  });

  it("answers a path it does not serve with 404 before asking for the token, then asks for it", async () => {
    const missing = await ask(server, "GET", "/nope");
    expect(missing.status).toBe(404);
    expect(missing.detail).toMatch(/^no route GET \/nope/);
    expect((await ask(server, "POST", "/nope")).status).toBe(404);
    const open = await ask(server, "GET", "/metrics");
    expect(open.status).toBe(401);
    expect((await ask(server, "GET", "/metrics", AUTH)).status).toBe(200);
  });

  it("refuses a query parameter /metrics and /healthz do not read, naming it", async () => {
    const metrics = await ask(server, "GET", "/metrics?format=json", AUTH);
    expect(metrics).toMatchObject({
      status: 400,
      field: "query.format",
      detail: "query.format: is not a parameter of this request (it takes none)",
    });
    const health = await ask(server, "GET", "/healthz?verbose=1");
    expect(health).toMatchObject({ status: 400, field: "query.verbose" });
    // A 10 KB name is quoted back cut short.
    const long = await ask(server, "GET", `/healthz?${"k".repeat(10_000)}=1`);
    expect(long.status).toBe(400);
    expect(long.detail.length).toBeLessThan(200);
  });
});

describe("the fleet web server", () => {
  it("serves the page's files whatever their query (a cache buster is no mistake)", async () => {
    expect((await ask("fleet", "GET", "/?v=2")).status).toBe(200);
    expect((await ask("fleet", "GET", "/app/app.js?v=2&utm_source=x")).status).toBe(200);
  });

  it("refuses a prototype key in a JSON body naming it, like any field the request does not have", async () => {
    const id = source.nodes()[0]?.id ?? "";
    const path = `/api/nodes/${id}/state`;
    const cases: [string, string][] = [
      ['{"on":true,"__proto__":{"admin":true}}', "body.__proto__"],
      ['{"__proto__":null,"on":true}', "body.__proto__"],
      ['{"on":true,"constructor":{"prototype":{}}}', "body.constructor"],
      ['{"on":true,"prototype":1}', "body.prototype"],
      ['{"on":true,"x":[{"__proto__":1}]}', "body.x[0].__proto__"],
    ];
    for (const [text, field] of cases) {
      const a = await ask("fleet", "PUT", path, AUTH, text);
      expect(a, text).toMatchObject({
        status: 400,
        field,
        detail: `${field}: is not a field of this request`,
      });
    }
    // As an unknown field reads.
    const typo = await ask("fleet", "PUT", path, AUTH, '{"on":true,"colour":1}');
    expect(typo.detail).toBe("body.colour: is not a field of this request");
    // Valid JSON nested 5,000 levels (10 KB): refused as too deep, not as "not JSON".
    const deep = `{"on":true,"x":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    expect(await ask("fleet", "PUT", path, AUTH, deep)).toMatchObject({
      status: 400,
      field: "body",
      detail: "body: nested more than 32 levels deep; no request is",
    });
    expect((await ask("fleet", "PUT", path, AUTH, '{"on":true}')).status).toBe(200);
  });
});
