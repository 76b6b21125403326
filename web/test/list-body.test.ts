/**
 * `GET /api/nodes` without a filter, what every page reads when its event stream (re)opens, is built
 * once for all the pages that read it together. Each request used to walk and encode the whole fleet:
 * 50 pages reconnecting together to a 5,000-node service cost about 10 ms of its main thread's CPU
 * apiece and held that thread (the twins' MQTT with it) for over a second. On a live fleet, where
 * some node changes every few milliseconds, the body was dropped at each change, so almost every
 * read built it again: it is now kept up to 1 s, and a stream opened meanwhile is brought forward by
 * the nodes changed since it was built, so the page still ends with the fleet as it is.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler, RealScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { ConsoleNode } from "../../view/source.js";
import { LIST_MAX_AGE_MS } from "../list-body.js";
import { startWebServer, type WebServer } from "../server.js";
import { call, QuietSource, SseClient } from "./helpers.js";

/** A fleet that counts how often the server reads the whole list, and names the nodes that change. */
class CountingSource extends QuietSource {
  readonly title = "counting";
  reads = 0;
  readonly list: ConsoleNode[] = ["n-1", "n-2", "n-3"].map((id) => ({
    id: NodeId(id),
    kind: "sim" as const,
    on: false,
    online: true,
    sync: "unknown" as const,
    version: 1,
  }));
  now = () => 0;
  nodes = () => {
    this.reads++;
    return this.list;
  };
  override node = (id: NodeId) => this.list.find((n) => n.id === id);
  /** One node changes, as a twin does: a new summary, and the view says so. */
  flip(i: number): void {
    const n = this.list[i] as ConsoleNode;
    this.list[i] = { ...n, on: !n.on, version: (n.version ?? 0) + 1 };
    this.events.emit("node", n.id);
    this.events.emit("changed");
  }
}

let server: WebServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const TOKEN = "t".repeat(20);

it("builds the whole list once for the pages that read it together, and anew after a change", async () => {
  const source = new CountingSource();
  server = await startWebServer({
    source,
    kind: "twins",
    port: 0,
    token: TOKEN,
    scheduler: new RealScheduler(),
  });
  const s = server;
  const pages = await Promise.all(Array.from({ length: 20 }, () => call(s, "GET", "/api/nodes")));
  for (const p of pages) {
    expect(p.status).toBe(200);
    expect(p.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(p.json).toEqual({ total: 3, offset: 0, nodes: source.list.map((n) => ({ ...n })) });
  }
  expect(source.reads).toBe(1);

  // A write through the server: the read after it sees what changed.
  source.flip(1);
  await call(s, "POST", "/api/query", { token: TOKEN });
  const after = await call(s, "GET", "/api/nodes");
  expect((after.json.nodes as ConsoleNode[])[1]).toMatchObject({ id: "n-2", on: true, version: 2 });
  expect(source.reads).toBe(2);

  // A filtered read is answered from the view as it is, as before.
  const filtered = await call(s, "GET", "/api/nodes?q=n-3");
  expect(filtered.json).toMatchObject({ total: 1, offset: 0, nodes: [{ id: "n-3" }] });
});

type PageNode = { id: string; on: boolean; version: number };
interface PageStore {
  nodes: Map<string, PageNode>;
  streamBegan(): void;
  reset(list: PageNode[]): void;
  apply(list: PageNode[], at: number, gone?: string[]): void;
}

it("keeps the list up to 1 s on a live fleet, and a page opened meanwhile still ends with every change", async () => {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "store.js")).href;
  const { Store } = (await import(url)) as { Store: new () => PageStore };
  const source = new CountingSource();
  const sched = new FakeScheduler(0);
  server = await startWebServer({ source, kind: "twins", port: 0, token: TOKEN, scheduler: sched });
  const s = server;
  expect((await call(s, "GET", "/api/nodes")).status).toBe(200); // another page's read: the list is built

  source.flip(0); // after the list was built, before the page's stream opens: no batch will carry it
  sched.advance(100);
  // The page, as web/public/app.js does it: the stream, then on `hello` the list, the batches kept.
  const store = new Store();
  const sse = new SseClient(s.origin, "/api/events");
  await sse.next((e) => e.event === "hello");
  store.streamBegan();
  source.flip(1); // after the stream opened, before the list is read: the next batch carries it
  const list = await call(s, "GET", "/api/nodes");
  // The list as it was built, not again: n-1 and n-2 at version 1.
  expect((list.json.nodes as PageNode[]).map((n) => n.version)).toEqual([1, 1, 1]);
  sched.advance(50);
  await sse.next((e) => e.event === "nodes" && JSON.stringify(e.data).includes('"n-2"'));
  for (const e of sse.events)
    if (e.event === "nodes")
      store.apply((e.data as { nodes: PageNode[] }).nodes, 0, (e.data as { gone?: string[] }).gone);
  store.reset(list.json.nodes as PageNode[]);
  const fleet = source.list.map((n) => ({ id: n.id, on: n.on, version: n.version }));
  expect([...store.nodes.values()].map((n) => ({ id: n.id, on: n.on, version: n.version }))).toEqual(fleet);
  sse.close();

  // Past 1 s from the list's build, with changes since: the next read builds it anew.
  sched.advance(LIST_MAX_AGE_MS);
  const later = await call(s, "GET", "/api/nodes");
  expect((later.json.nodes as PageNode[]).map((n) => n.version)).toEqual([2, 2, 1]);
});

it("keeps the list no longer than 1 s past a change the view names no node for", async () => {
  const source = new CountingSource();
  const sched = new FakeScheduler(0);
  server = await startWebServer({ source, kind: "twins", port: 0, token: TOKEN, scheduler: sched });
  const s = server;
  await call(s, "GET", "/api/nodes");
  const n = source.list[2] as ConsoleNode;
  source.list[2] = { ...n, on: true, version: 2 };
  source.events.emit("changed"); // no `node` event
  sched.advance(LIST_MAX_AGE_MS);
  const later = await call(s, "GET", "/api/nodes");
  expect((later.json.nodes as PageNode[]).map((x) => x.version)).toEqual([1, 1, 2]);
});
