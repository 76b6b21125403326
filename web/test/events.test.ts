/**
 * The event stream's per-client bound over real sockets: a client that stops reading is dropped once
 * its unread bytes pass the bound, while a client that reads keeps receiving, before and after; the
 * number of streams is bounded too, to half the connections the server keeps; and closing the server
 * ends every stream. A request whose headers never end is closed, and the connections open at once
 * are capped (web/connection-limits.ts): at the cap a new connection takes the place of the one idle
 * longest since its answer, else of the one open longest without a request, and is refused only when
 * every connection is busy.
 */
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { startWebServer, type WebServer } from "../server.js";
import { QuietSource, SseClient } from "./helpers.js";

/** A fleet of one node that says whatever the test makes it log. */
class TalkingSource extends QuietSource {
  readonly title = "talking";
  private t = 0;
  now = () => this.t;
  nodes = () => [
    {
      id: NodeId("n-1"),
      kind: "sim" as const,
      on: false,
      online: true,
      sync: "unknown" as const,
      version: 1,
    },
  ];
  say(text: string): void {
    this.events.emit("log", { t: ++this.t, level: "info", text });
  }
}

let server: WebServer | undefined;
/** The twins' web server on `source`, with `extra` options. */
function serve(
  source: TalkingSource,
  extra: Partial<Parameters<typeof startWebServer>[0]>,
): Promise<WebServer> {
  return startWebServer({
    source,
    kind: "twins",
    port: 0,
    token: "t".repeat(20),
    scheduler: new RealScheduler(),
    ...extra,
  });
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("the event stream", () => {
  it("drops a client that stops reading; the one that reads is unaffected", async () => {
    const source = new TalkingSource();
    server = await serve(source, { clientBufferBytes: 256 * 1024 });
    const reader = new SseClient(server.origin, "/api/events");
    const stalled = new SseClient(server.origin, "/api/events", { read: false });
    await reader.next((e) => e.event === "hello");
    source.say("first");
    await reader.next((e) => e.event === "log" && (e.data as { text: string }).text === "first");

    // Flood both (8 KB lines, 16 per round) until the server cuts the stalled one off (a paused
    // socket does not see its end, so the server's count tells). A round goes only when the reader
    // has taken in all but 16 of the lines sent: never more than 256 KB ahead of it, the bound, so
    // the reader is one that keeps up however slow the host (flooded 100 a round on a host at load
    // average 30, the reader fell behind first and was the one cut).
    const line = "x".repeat(8192);
    const hub = server.hub;
    let sent = 0;
    const taken = () => reader.events.filter((e) => (e.data as { text?: string }).text === line).length;
    await new Promise<void>((resolve) => {
      const flood = setInterval(() => {
        if (hub.stats.dropped > 0) {
          clearInterval(flood);
          resolve();
          return;
        }
        if (sent - taken() > 16) return;
        for (let i = 0; i < 16; i++) source.say(line);
        sent += 16;
      }, 20);
    });
    stalled.close();
    expect(server.hub.stats.dropped).toBe(1);
    expect(server.hub.stats.clients).toBe(1);

    source.say("after");
    await reader.next((e) => e.event === "log" && (e.data as { text: string }).text === "after");
    expect(reader.bytes).toBeGreaterThan(256 * 1024);
    reader.close();
  });

  it("refuses a stream past the most it keeps with a 503 problem, and takes one again when one closes", async () => {
    const source = new TalkingSource();
    server = await serve(source, { maxEventClients: 2 });
    const a = new SseClient(server.origin, "/api/events");
    const b = new SseClient(server.origin, "/api/events", { read: false });
    await a.next((e) => e.event === "hello");
    await expect.poll(() => server?.hub.stats.clients).toBe(2);

    const refused = await fetch(`${server.origin}/api/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      "2 event streams are open, the most this server keeps: close a page or retry later",
    );
    // The others are served as before.
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    source.say("still here");
    await a.next((e) => e.event === "log" && (e.data as { text: string }).text === "still here");

    b.close();
    await expect.poll(() => server?.hub.stats.clients).toBe(1);
    const c = new SseClient(server.origin, "/api/events");
    await c.next((e) => e.event === "hello");
    a.close();
    c.close();
  });

  it("makes room for a stream with the token: the oldest stream opened without it is ended", async () => {
    const source = new TalkingSource();
    server = await serve(source, { maxEventClients: 3 });
    const origin = server.origin;
    // Clients that never read, on a quiet fleet: too little is sent ever to cut them as slow readers.
    const idle = [0, 1, 2].map(() => new SseClient(origin, "/api/events", { read: false }));
    await expect.poll(() => server?.hub.stats.clients).toBe(3);
    expect((await fetch(`${origin}/api/events`)).status).toBe(503); // without the token: as before

    // The operator's page sends the token: it gets a stream, in the place of the oldest without.
    const page = new SseClient(origin, "/api/events?token=tttttttttttttttttttt");
    await page.next((e) => e.event === "hello");
    await idle[0]?.closed;
    expect(server.hub.stats.clients).toBe(3);
    const bearer = await fetch(`${origin}/api/events`, {
      headers: { authorization: `Bearer ${"t".repeat(20)}` },
    });
    expect(bearer.status).toBe(200);
    await idle[1]?.closed;
    // Every stream has the token now but one; then none: a third with it takes the last, a fourth waits.
    const third = new SseClient(origin, "/api/events?token=tttttttttttttttttttt");
    await third.next((e) => e.event === "hello");
    await idle[2]?.closed;
    const fourth = await fetch(`${origin}/api/events`, {
      headers: { authorization: `Bearer ${"t".repeat(20)}` },
    });
    expect(fourth.status).toBe(503);
    // A wrong token makes no room.
    expect((await fetch(`${origin}/api/events?token=${"x".repeat(20)}`)).status).toBe(503);
    expect(server.hub.stats.clients).toBe(3);
    await bearer.body?.cancel();
    page.close();
    third.close();
  });

  it("answers HEAD with the stream's headers at once, and holds no stream for it", async () => {
    const source = new TalkingSource();
    server = await serve(source, {});
    const res = await fetch(`${server.origin}/api/events`, {
      method: "HEAD",
      signal: AbortSignal.timeout(3000),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await res.text()).toBe("");
    expect(server.hub.stats.clients).toBe(0);
  });

  it("ends every stream when the server closes", async () => {
    const source = new TalkingSource();
    server = await startWebServer({
      source,
      kind: "twins",
      port: 0,
      token: "t".repeat(20),
      scheduler: new RealScheduler(),
    });
    const a = new SseClient(server.origin, "/api/events");
    const b = new SseClient(server.origin, "/api/events");
    await a.next((e) => e.event === "hello");
    await b.next((e) => e.event === "hello");
    await server.close();
    server = undefined;
    await Promise.all([a.closed, b.closed]);
  });
});

describe("connections", () => {
  /** A socket that sends half a request (no blank line ends its headers), with when it closed. */
  function halfRequest(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
        resolve({ socket, closed });
      });
      let got = "";
      socket.on("data", (d: Buffer) => {
        got += d.toString();
      });
      const closed = new Promise<string>((done) => socket.on("close", () => done(got)));
      socket.on("error", () => {});
      socket.once("error", reject);
    });
  }

  it("closes a request whose headers never end", async () => {
    const source = new TalkingSource();
    server = await serve(source, { connections: { headersTimeoutMs: 300, maxConnections: 3 } });
    const port = Number(new URL(server.origin).port);
    const held = await Promise.all([halfRequest(port), halfRequest(port), halfRequest(port)]);
    // The three are answered 408 and closed once their headers are late.
    for (const h of held) expect(await h.closed).toMatch(/^HTTP\/1\.1 408/);
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
  });

  it("at the cap, closes the connection open longest without its request for one that sends it", async () => {
    const source = new TalkingSource();
    server = await serve(source, { connections: { maxConnections: 3 } });
    const port = Number(new URL(server.origin).port);
    // Three sockets trickling their headers (slowloris), one after the other.
    const held: { socket: Socket; closed: Promise<string> }[] = [];
    for (let i = 0; i < 3; i++) held.push(await halfRequest(port));
    // A client that sends its request is answered; the oldest of the three gave it its place. It used
    // to be closed unanswered until they were cut at their 10 s, and again as they came back.
    const res = await fetch(`${server.origin}/healthz`);
    expect(res.status).toBe(200);
    expect(await held[0]?.closed).toBe("");
    expect(held.slice(1).map((h) => h.socket.destroyed)).toEqual([false, false]);
    const metrics = await (await fetch(`${server.origin}/metrics`)).text();
    expect(metrics).toContain('twinfleet_web_connections_closed_total{reason="no-request"} 1');
    expect(metrics).toContain("twinfleet_web_connections_max 3");
    for (const h of held) h.socket.destroy();
  });

  /** A keep-alive connection that asked for /healthz and read its answer in full, then waits. */
  function answered(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      });
      let got = "";
      const closed = new Promise<void>((done) => socket.on("close", () => done()));
      socket.on("data", (d: Buffer) => {
        got += d.toString();
        if (got.endsWith('{"ok":true}')) resolve({ socket, closed });
      });
      socket.on("error", () => {});
      socket.once("error", reject);
    });
  }

  it("at the cap, closes the connection idle longest for a new one; refuses it only when all are busy", async () => {
    const source = new TalkingSource();
    // As many streams as connections, which only a server told so keeps (below).
    server = await serve(source, {
      connections: { headersTimeoutMs: 300, maxConnections: 3 },
      maxEventClients: 3,
    });
    const port = Number(new URL(server.origin).port);
    // Three keep-alive clients, each answered and kept for a next request (a dashboard, a session).
    const first = await answered(port);
    const second = await answered(port);
    const third = await answered(port);
    // Asked again, the first is now the newest; the second has waited longest.
    first.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await new Promise((r) => first.socket.once("data", r));
    // A fourth client is answered: the second gave it its place. It used to be closed unanswered
    // until the keep-alive connections timed out (30 s and more).
    const res = await fetch(`${server.origin}/healthz`);
    expect(res.status).toBe(200);
    await second.closed;
    expect(first.socket.destroyed || third.socket.destroyed).toBe(false);
    first.socket.destroy();
    third.socket.destroy();
    // Every connection busy (event streams): a new one is refused, as before.
    const busy: Socket[] = [];
    for (let i = 0; i < 3; i++) busy.push(await stream(port));
    const refused = await halfRequest(port);
    expect(await refused.closed).toBe("");
    for (const b of busy) expect(b.destroyed).toBe(false);
    const metrics = await new Promise<string>((resolve) => {
      // The metrics' own connection takes a place too: read them through a stream's end.
      busy[0]?.destroy();
      busy[0]?.once("close", () => void fetch(`${server?.origin}/metrics`).then((r) => resolve(r.text())));
    });
    expect(metrics).toMatch(/twinfleet_web_connections_closed_total\{reason="refused"\} 1\n/);
    for (const b of busy) b.destroy();
  });

  it("keeps event streams to half its connections, so requests and scrapes still get in", async () => {
    const source = new TalkingSource();
    server = await serve(source, { connections: { maxConnections: 4 } });
    const port = Number(new URL(server.origin).port);
    // Pages opened one after another, each stream on a socket of its own: the third and fourth 503.
    const pages: Socket[] = [];
    for (let i = 0; i < 4; i++) pages.push(await stream(port));
    expect(server.hub.maxClients).toBe(2);
    expect(server.hub.stats.clients).toBe(2);
    // A probe and a scrape are answered. Before, the server kept 100 streams whatever its cap: four
    // held all four connections, and every new one, Prometheus's scrape too, was closed unanswered.
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.origin}/metrics`)).text();
    expect(metrics).toMatch(/twinfleet_web_connections_closed_total\{reason="refused"\} 0\n/);
    for (const p of pages) p.destroy();
  });

  /** An event stream on a socket of its own, once its answer has begun. */
  function stream(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      });
      socket.once("data", () => resolve(socket));
      socket.on("error", () => {});
      socket.once("error", reject);
    });
  }
});
