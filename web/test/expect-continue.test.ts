/**
 * `Expect: 100-continue` (web/expect-continue.ts): a request the server refuses on its headers gets
 * its final answer without a 100 (Node sent the 100 first, telling the client to send a body it then
 * refused), and one it takes gets the 100, then its answer once the body is sent.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { startWebServer, type WebServer } from "../server.js";

const TOKEN = "t".repeat(20);
let server: WebServer;
let id: string;
beforeAll(async () => {
  const scheduler = new RealScheduler();
  const source = new DemoSource({ nodes: 4, scheduler });
  server = await startWebServer({ source, kind: "monitor", port: 0, token: TOKEN, scheduler });
  id = source.nodes()[0]?.id ?? "";
});
afterAll(() => server.close());

/**
 * Sends `head` (a request's headers, `Expect: 100-continue`), then `body` once a 100 came, and
 * resolves with what the server wrote until it wrote a final status line's answer in full.
 */
function expectContinue(head: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(server.port, "127.0.0.1", () => s.write(head));
    let got = "";
    let sent = false;
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      got += d;
      if (!sent && got.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
        sent = true;
        s.write(body);
      }
      const final = /HTTP\/1\.1 [2-5]\d\d [^\r]*\r\n[\s\S]*?content-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(
        got,
      );
      if (final && got.length >= final.index + final[0].length + Number(final[1])) {
        s.destroy();
        resolve(got);
      }
    });
    s.on("error", reject);
  });
}

const head = (path: string, headers: Record<string, string>) =>
  `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;

it("answers a write it refuses on its headers without a 100", async () => {
  const json = { "Content-Type": "application/json" };
  for (const [what, h, status] of [
    ["no token", { ...json, "Content-Length": "11" }, 401],
    ["a body past 16 KiB", { ...json, Authorization: `Bearer ${TOKEN}`, "Content-Length": "5000000" }, 413],
    [
      "not JSON",
      { "Content-Type": "text/plain", Authorization: `Bearer ${TOKEN}`, "Content-Length": "11" },
      415,
    ],
  ] as const) {
    const got = await expectContinue(head(`/api/nodes/${id}/state`, h), '{"on":true}');
    expect(got.split("\r\n")[0], what).toBe(
      `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : status === 413 ? "Payload Too Large" : "Unsupported Media Type"}`,
    );
  }
  const unknown = await expectContinue(head("/api/nope", { "Content-Length": "11" }), '{"on":true}');
  expect(unknown.split("\r\n")[0]).toBe("HTTP/1.1 404 Not Found");
});

it("sends the 100 to a write it takes, then its answer", async () => {
  const got = await expectContinue(
    head(`/api/nodes/${id}/state`, {
      "Content-Type": "application/json",
      Authorization: `Bearer ${TOKEN}`,
      "Content-Length": "11",
    }),
    '{"on":true}',
  );
  expect(got).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
});
