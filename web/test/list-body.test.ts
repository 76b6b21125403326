/**
 * `GET /api/nodes` without a filter, what every page reads when its event stream (re)opens, is built
 * once for all the pages that ask while the fleet stands still, and again as soon as the view says a
 * node changed. Each request used to walk and encode the whole fleet: 50 pages reconnecting together
 * to a 5,000-node service cost about 10 ms of its main thread's CPU apiece and held that thread (the
 * twins' MQTT with it) for over a second.
 */
import { afterEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { ConsoleNode } from "../../view/source.js";
import { startWebServer, type WebServer } from "../server.js";
import { call, QuietSource } from "./helpers.js";

/** A fleet of three nodes that counts how often the server reads the whole list. */
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
  /** One node changes, as a twin does: a new summary, and the view says so. */
  flip(i: number): void {
    const n = this.list[i] as ConsoleNode;
    this.list[i] = { ...n, on: !n.on, version: (n.version ?? 0) + 1 };
    this.events.emit("changed");
  }
}

let server: WebServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

it("builds the whole list once for the pages that read it together, and anew after a change", async () => {
  const source = new CountingSource();
  server = await startWebServer({
    source,
    kind: "twins",
    port: 0,
    token: "t".repeat(20),
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

  source.flip(1);
  const after = await call(s, "GET", "/api/nodes");
  expect((after.json.nodes as ConsoleNode[])[1]).toMatchObject({ id: "n-2", on: true, version: 2 });
  expect(source.reads).toBe(2);

  // A filtered read is answered from the view as it is, as before.
  const filtered = await call(s, "GET", "/api/nodes?q=n-3");
  expect(filtered.json).toMatchObject({ total: 1, offset: 0, nodes: [{ id: "n-3" }] });
});
