/**
 * A request target of a form the servers do not take (RFC 9112 §3.2) is a 400 problem naming it, on
 * the fleet's web server and on a standalone broker's `--http` alike (web/http-app.ts): `GET *` (the
 * asterisk form is for OPTIONS alone) served the page, and a `#fragment`, which a client never sends,
 * was read as the query (`/api/nodes#x` was `query.x: is not a parameter`, `/#x` served the page,
 * `/api/nodes?q=n-0#x` searched for `n-0#x`). The broker's server answered a path that is not valid
 * percent-encoding in fastify's own JSON shape, not as a problem. Sent on raw sockets: fetch() drops a
 * fragment and cannot send `*`. `OPTIONS *` (RFC 9110 §9.3.7) is answered 204 with the methods the
 * server takes in `Allow` (it was `404 no route OPTIONS *`).
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { RunningBroker } from "../../broker/server.js";
import { RealScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { type BrokerHttpServer, startBrokerHttp } from "../broker-server.js";
import { startWebServer, type WebServer } from "../server.js";

const TOKEN = "t".repeat(20);
let web: WebServer;
let broker: RunningBroker;
let brokerHttp: BrokerHttpServer;

beforeAll(async () => {
  const scheduler = new RealScheduler();
  web = await startWebServer({
    source: new DemoSource({ nodes: 4, scheduler }),
    kind: "monitor",
    port: 0,
    token: TOKEN,
    scheduler,
  });
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  brokerHttp = await startBrokerHttp({ figures: broker.figures, port: 0, token: TOKEN });
});
afterAll(async () => {
  await web.close();
  await brokerHttp.close();
  await broker.close();
});

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly allow?: string;
  readonly body: string;
}

/** `METHOD target` on a new connection; the status, content type and body the server wrote. */
function exchange(
  port: number,
  method: string,
  target: string,
  auth = true,
  host = "127.0.0.1",
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () =>
      s.write(
        `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${auth ? `Authorization: Bearer ${TOKEN}\r\n` : ""}Connection: close\r\n\r\n`,
      ),
    );
    let got = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      got += d;
    });
    s.on("error", reject);
    s.on("close", () => {
      const head = got.slice(0, got.indexOf("\r\n\r\n"));
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]),
        type: /^content-type: (.*)$/im.exec(head)?.[1] ?? "",
        ...(/^allow: (.*)$/im.test(head) ? { allow: /^allow: (.*)$/im.exec(head)?.[1] ?? "" } : {}),
        body: got.slice(head.length + 4),
      });
    });
  });
}

const servers = [
  { name: "the fleet's web server", port: () => web.port, allow: "DELETE, GET, HEAD, OPTIONS, POST, PUT" },
  { name: "a standalone broker's --http", port: () => brokerHttp.port, allow: "GET, HEAD, OPTIONS" },
];

describe.each(servers)("$name", ({ port, allow }) => {
  it("answers OPTIONS * with 204 and the methods it takes in Allow, whoever asks", async () => {
    for (const auth of [true, false]) {
      const a = await exchange(port(), "OPTIONS", "*", auth);
      expect([a.status, a.allow, a.body]).toEqual([204, allow, ""]);
    }
    // The Host is judged first, as on every request: a loopback bind takes loopback names only.
    expect((await exchange(port(), "OPTIONS", "*", true, "evil.example")).status).toBe(403);
    // OPTIONS on a path is still a method the path does not take.
    const path = await exchange(port(), "OPTIONS", "/healthz");
    expect([path.status, path.allow]).toEqual([405, "GET, HEAD"]);
  });

  /** The 400 problem the server answered, with its detail. */
  async function refused(method: string, target: string): Promise<string> {
    const a = await exchange(port(), method, target);
    expect(a.status, `${method} ${target}: ${a.body}`).toBe(400);
    expect(a.type).toMatch(/^application\/problem\+json/);
    const p = JSON.parse(a.body) as { status: number; field?: string; detail: string };
    expect(p).toMatchObject({ status: 400, field: "target" });
    return p.detail;
  }

  it("refuses the asterisk form but for OPTIONS, naming it", async () => {
    expect(await refused("GET", "*")).toBe(
      "request target: * (the asterisk form) is for OPTIONS only (RFC 9112 §3.2.4); GET names a path, e.g. GET /",
    );
    // HEAD gets the status and headers alone.
    const head = await exchange(port(), "HEAD", "*");
    expect([head.status, head.type]).toEqual([400, expect.stringMatching(/^application\/problem\+json/)]);
    expect(await refused("DELETE", "*")).toMatch(/DELETE names a path, e\.g\. DELETE \/$/);
    // Not the asterisk form, nor a path: named as such (it read `path: is not valid percent-encoded UTF-8`).
    expect(await refused("GET", "*?x=1")).toBe(
      'request target: "*?x=1" is neither a path (/…) nor a whole URL (RFC 9112 §3.2); e.g. GET /',
    );
    // OPTIONS * asks about the server: not a malformed target.
    expect((await exchange(port(), "OPTIONS", "*")).status).not.toBe(400);
  });

  it("refuses a target with a fragment, naming it, wherever it is", async () => {
    expect(await refused("GET", "/healthz#x")).toBe(
      'request target: "/healthz#x" holds a fragment ("#x"), which a client never sends (RFC 9110 §7.1): send the target without it (a # in a value is %23)',
    );
    expect(await refused("GET", "/metrics?a#b")).toMatch(
      /^request target: "\/metrics\?a#b" holds a fragment \("#b"\)/,
    );
    expect(await refused("GET", "/healthz#")).toMatch(/holds a fragment \("#"\)/);
    expect(await refused("GET", "/#frag")).toMatch(/holds a fragment/);
  });

  it("answers a path that is not valid percent-encoding as a problem, and keeps serving", async () => {
    const a = await exchange(port(), "GET", "/metrics/%ff");
    expect(a.status).toBe(400);
    expect(a.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(a.body)).toMatchObject({ status: 400, field: "path" });
    // A target in absolute form is taken (RFC 9112 §3.2.2), and the server goes on serving.
    expect((await exchange(port(), "GET", `http://127.0.0.1:${port()}/healthz`)).status).toBe(200);
    expect((await exchange(port(), "GET", "/healthz")).status).toBe(200);
  });
});

describe("the fleet's web server", () => {
  it("reads no fragment as a query: the API's searches and the page's files are refused with one", async () => {
    const p = web.port;
    expect((await exchange(p, "GET", "/api/nodes?q=n-0#x")).status).toBe(400);
    expect((await exchange(p, "GET", "/api/nodes#x")).body).toContain('holds a fragment (\\"#x\\")');
    expect((await exchange(p, "GET", "/app/app.js#x")).status).toBe(400);
    expect((await exchange(p, "GET", "/api/nodes?q=n-0%23x")).status).toBe(200);
  });
});
