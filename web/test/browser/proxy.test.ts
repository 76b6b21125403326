/**
 * The page behind Debian's nginx, with the configuration docs/web.md gives ("Behind a reverse proxy",
 * read from the file): TLS at nginx, the site under `/fleet/`, nginx's default proxy buffering, and the
 * public name as Host (Chromium resolves it to 127.0.0.1). The page loads and lists the fleet, goes
 * live, sets and pairs a node; the event stream comes through at once and outlives nginx's read
 * timeout when idle; a read without the token is refused; a stale If-Match is a 412; and the token is
 * never in nginx's access log. Needs the Debian packages `nginx` and `openssl` (fails naming them).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, openBrowser, ROOT, requireProgram, type SimServer, startSim } from "./harness.js";

const NGINX = "/usr/sbin/nginx";
const SITE = "fleet.example.test";
const NODES = 20;
/** Shorter than nginx's default 60 s, to show the pings keep an idle stream open past it. */
const READ_TIMEOUT_S = 20;

let sim: SimServer;
let browser: Browser;
let nginx: ChildProcess | undefined;
let dir: string;
let base: string;

/** The nginx block of docs/web.md's "Behind a reverse proxy". */
function documentedConfig(): string {
  const doc = readFileSync(join(ROOT, "docs", "web.md"), "utf8");
  const section = doc.split("## Behind a reverse proxy")[1] ?? "";
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("docs/web.md: no nginx block under Behind a reverse proxy");
  return block;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Got {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request to nginx by the public name, over its self-signed TLS. */
function viaProxy(
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Got> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: url.port,
        path: url.pathname + url.search,
        servername: SITE,
        rejectUnauthorized: false,
        method: o.method ?? "GET",
        headers: { host: url.host, ...o.headers },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

const auth = () => ({ authorization: `Bearer ${sim.token}` });

beforeAll(async () => {
  requireProgram(NGINX, "nginx");
  requireProgram("/usr/bin/openssl", "openssl");
  sim = await startSim(NODES, ["--workers", "1"]);
  dir = mkdtempSync(join(tmpdir(), "tf-nginx-"));
  // nginx's workers run as another user: they must reach the temporary directories under here.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "logs"));
  const key = join(dir, "fleet.key");
  const cert = join(dir, "fleet.pem");
  execFileSync(
    "/usr/bin/openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${SITE}`],
      ...["-addext", `subjectAltName=DNS:${SITE}`],
    ],
    { stdio: "ignore" },
  );
  const port = await freePort();
  const backend = new URL(sim.origin).host;
  const server = documentedConfig()
    .replace("listen 443 ssl;", `listen 127.0.0.1:${port} ssl;`)
    .replace("server_name fleet.example.com;", `server_name ${SITE};`)
    .replace("/etc/ssl/certs/fleet.pem", cert)
    .replace("/etc/ssl/private/fleet.key", key)
    .replace("http://127.0.0.1:8080/", `http://${backend}/`);
  expect(server).toContain(backend);
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  writeFileSync(
    join(dir, "nginx.conf"),
    [
      `pid ${join(dir, "nginx.pid")};`,
      "worker_processes 1;",
      "events { worker_connections 256; }",
      "http {",
      `  access_log ${join(dir, "logs", "access.log")};`,
      `  proxy_read_timeout ${READ_TIMEOUT_S}s;`,
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((n) => `  ${temp(n)}`),
      server,
      "}",
    ].join("\n"),
  );
  const errorLog = join(dir, "logs", "error.log");
  nginx = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", errorLog, "-g", "daemon off;"], {
    stdio: "ignore",
  });
  base = `https://${SITE}:${port}/fleet/`;
  // Up once it answers at all (it refuses connections until it listens); the tests judge what.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await viaProxy("/fleet/healthz").catch(() => undefined);
    if (r !== undefined) break;
    if (nginx.exitCode !== null || Date.now() > deadline)
      throw new Error(`nginx did not serve ${base}:\n${readFileSync(errorLog, "utf8")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await openBrowser({
    args: [`--host-resolver-rules=MAP ${SITE} 127.0.0.1`],
    ignoreHTTPSErrors: true,
  });
});

afterAll(async () => {
  const errors = browser?.errors() ?? [];
  await browser?.close();
  nginx?.kill("SIGTERM");
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(errors, "uncaught errors in the page").toEqual([]);
});

describe("the page behind nginx, at https://…/fleet/", () => {
  it("loads, lists the fleet, goes live, sets and pairs a node", async () => {
    const page = await browser.page();
    const failed: string[] = [];
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${base}#token=${encodeURIComponent(sim.token)}`);
    await page
      .locator("#shown")
      .filter({ hasText: `${NODES} of ${NODES} nodes` })
      .waitFor();
    await page.locator("#live.open").waitFor();
    expect(page.url().startsWith(base)).toBe(true);

    await page.goto(`${base}#/node/n-0003`);
    await page.locator("#node-version").waitFor();
    // The set goes with the version the node page shows: on a busy host the node may still be
    // registering (a set on a newer version is refused), so wait until it is online and the page
    // shows the twin's version.
    const shown = async () => {
      const twin = (await (await sim.api("/api/nodes/n-0003")).json()) as {
        online: boolean;
        version: number;
        desired: { pending: boolean };
      };
      // Its pairing confirmed too: the confirmation moves the version (a set with the one
      // before it is refused, 412), and on a loaded host it can come after the node is online.
      return (
        twin.online &&
        !twin.desired.pending &&
        (await page.locator("#node-version").textContent()) === `v${twin.version}`
      );
    };
    // A press of the node's between the check and the click moves its version too: the set is then
    // refused (412, "Another change reached n-0003 first … try again"), and is tried again as the
    // page asks, at most three times.
    let on = false;
    for (let attempt = 0; attempt < 3 && !on; attempt++) {
      await expect.poll(shown, { timeout: 30_000 }).toBe(true);
      await page.click("#set-on");
      on = await page
        .locator('#node-led[data-on="true"]')
        .waitFor({ timeout: 15_000 })
        .then(
          () => true,
          () => false,
        );
    }
    if (!on) {
      const notice = await page.locator(".notice").allTextContents();
      throw new Error(
        `the LED did not turn on; refused: ${failed.join(", ") || "none"}; the page said: ${notice.join(" | ")}`,
      );
    }
    failed.splice(0, failed.length, ...failed.filter((f) => !(f.startsWith("412 ") && f.endsWith("/state"))));
    await page.fill("#follow-id", "n-0011");
    await page.click("#follow-add");
    await page.locator('ul.pairs a[href="#/node/n-0011"]').first().waitFor();
    await page.close();
    expect(failed).toEqual([]);
  }, 120_000);

  it("passes the event stream on at once, and an idle stream outlives nginx's read timeout", async () => {
    const ctl = new AbortController();
    const frames: { at: number; text: string }[] = [];
    const t0 = Date.now();
    const read = (async () => {
      const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
        const url = new URL("api/events", base);
        const req = request({
          host: "127.0.0.1",
          port: url.port,
          path: url.pathname,
          servername: SITE,
          rejectUnauthorized: false,
          headers: { host: url.host, accept: "text/event-stream", ...auth() },
          signal: ctl.signal,
        });
        req.on("response", resolve);
        req.on("error", reject);
        req.end();
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
      res.setEncoding("utf8");
      try {
        for await (const d of res) frames.push({ at: Date.now() - t0, text: d as string });
      } catch {
        // aborted below
      }
      return res.complete;
    })().catch((e: unknown) => e);
    // `hello` is a few hundred bytes, far under nginx's buffer: it comes through at once or not at all.
    await expect
      .poll(() => frames.some((f) => f.text.includes("event: hello")), { timeout: 3000 })
      .toBe(true);
    // A change made through the proxy reaches the stream within a second.
    const set = Date.now() - t0;
    const r = await viaProxy("api/nodes/n-0007/state", {
      method: "PUT",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ on: true }),
    });
    expect(r.status).toBe(200);
    await expect
      .poll(() => frames.some((f) => f.at > set && f.text.includes('"n-0007"')), { timeout: 1000 })
      .toBe(true);
    // Idle past nginx's read timeout: the pings keep it open.
    await new Promise((resolve) => setTimeout(resolve, (READ_TIMEOUT_S + 2) * 1000));
    ctl.abort();
    expect(await read, "the stream was ended before the client left").toBe(false);
    expect(frames.some((f) => f.text.includes(": ping"))).toBe(true);
  }, 60_000);

  it("refuses a read without the token, and a stale If-Match with 412", async () => {
    const anon = await viaProxy("api/nodes");
    expect(anon.status).toBe(401);
    expect(JSON.parse(anon.body).detail).toMatch(/^a read through a reverse proxy needs/);
    const d = await viaProxy("api/nodes/n-0009", { headers: auth() });
    expect(d.status).toBe(200);
    const etag = d.headers.etag as string;
    const put = (ifMatch: string, on: boolean) =>
      viaProxy("api/nodes/n-0009/state", {
        method: "PUT",
        headers: { ...auth(), "content-type": "application/json", "if-match": ifMatch },
        body: JSON.stringify({ on }),
      });
    const first = await put(etag, true);
    expect(first.status).toBe(200);
    expect(first.headers.etag).not.toBe(etag);
    expect((await put(etag, false)).status).toBe(412);
    // nginx's own redirect of the bare prefix stays on the public name.
    const bare = await viaProxy("/fleet");
    expect(bare.headers.location).toBe(base);
  });

  it("never lets the token into nginx's access log", async () => {
    const log = readFileSync(join(dir, "logs", "access.log"), "utf8");
    expect(log).toContain("GET /fleet/api/events");
    expect(log.includes(sim.token), "the token is in nginx's access log").toBe(false);
  });
});
