/**
 * Requests Node's parser refuses before any route sees them — headers past 16 KiB, bytes that are
 * not HTTP — are answered as problems like every other error (they were fastify's own JSON shape),
 * and the server goes on serving.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { startWebServer, type WebServer } from "../server.js";

let server: WebServer;
beforeAll(async () => {
  const scheduler = new RealScheduler();
  server = await startWebServer({
    source: new DemoSource({ nodes: 4, scheduler }),
    kind: "monitor",
    port: 0,
    token: "t".repeat(20),
    scheduler,
  });
});
afterAll(() => server.close());

/** Sends `raw` on a new connection and resolves with everything the server wrote before closing. */
function exchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(server.port, "127.0.0.1", () => s.write(raw));
    let got = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      got += d;
    });
    s.on("close", () => resolve(got));
    s.on("error", (e) => (got === "" ? reject(e) : resolve(got)));
  });
}

function problemOf(answer: string): { status: number; detail: string } {
  return JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
}

it("answers headers past 16 KiB with a 431 problem", async () => {
  const answer = await exchange(
    `GET /api/fleet HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ${"a".repeat(20_000)}\r\n\r\n`,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  expect(answer).toContain("Content-Type: application/problem+json");
  expect(problemOf(answer)).toMatchObject({
    status: 431,
    detail: "the request line and headers are larger than the server takes (16 KiB)",
  });
});

it("answers bytes that are not HTTP with a 400 problem, and keeps serving", async () => {
  const answer = await exchange("\u0000\u0001 NOT HTTP\r\n\r\n");
  expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(problemOf(answer)).toMatchObject({ status: 400 });
  expect(problemOf(answer).detail).toMatch(/^the request is not HTTP the server can parse \(HPE_/);
  expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
});

it("answers a path that is not valid percent-encoding with a 400 problem naming the path", async () => {
  const res = await fetch(`${server.origin}/api/nodes/%ff%fe/state`);
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(await res.json()).toMatchObject({
    status: 400,
    field: "path",
    detail: "path: is not valid percent-encoded UTF-8 (each %XX must form UTF-8 text)",
  });
  expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
});

it("answers an HTTP/1.1 request without a Host header with a 400 problem naming it; HTTP/1.0 needs none", async () => {
  const answer = await exchange("GET /api/fleet HTTP/1.1\r\nConnection: close\r\n\r\n");
  expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(problemOf(answer)).toMatchObject({
    status: 400,
    field: "Host",
    detail: "Host: is missing (an HTTP/1.1 request must name its host)",
  });
  expect(await exchange("GET /healthz HTTP/1.0\r\n\r\n")).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
});

it("answers a request with two Host headers with a 400 problem naming it, whichever comes first", async () => {
  // RFC 9112 §3.2. Node keeps the first and drops the rest: `Host: 127.0.0.1` then `Host: evil.example`
  // was answered as a loopback request, where a proxy in front that reads the last one judges another.
  for (const hosts of ["Host: 127.0.0.1\r\nHost: evil.example", "Host: evil.example\r\nhost: 127.0.0.1"]) {
    const answer = await exchange(`GET /api/fleet HTTP/1.1\r\n${hosts}\r\nConnection: close\r\n\r\n`);
    expect(answer, hosts).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(problemOf(answer)).toMatchObject({
      status: 400,
      field: "Host",
      detail: "Host: is given more than once (a request names one host)",
    });
  }
  const one = await exchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  expect(one).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
});

it("answers a path part longer than any node id with a 414 problem titled so", async () => {
  const res = await fetch(`${server.origin}/api/nodes/${"n".repeat(200)}`);
  expect(res.status).toBe(414);
  expect(await res.json()).toMatchObject({ title: "URI Too Long", field: "path" });
});

it.each([
  [
    "Content-Encoding: gzip",
    "application/json",
    "body: is sent with Content-Encoding gzip; send it unencoded (identity)",
  ],
  ["X-None: 1", "application/json; charset=utf-16", "body: is in charset utf-16; send JSON in UTF-8"],
])("refuses a JSON body it would misread (%s, %s) with a 415", async (header, type, detail) => {
  const body = '{"on":true}';
  const answer = await exchange(
    `PUT /api/nodes/n-0001/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ${"t".repeat(20)}\r\n` +
      `Content-Type: ${type}\r\n${header}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 415 Unsupported Media Type\r\n/);
  expect(problemOf(answer)).toMatchObject({ status: 415, field: "body", detail });
});
