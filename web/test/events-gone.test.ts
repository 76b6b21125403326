/**
 * The event stream keeps what it last showed of each node, to send only what changed: a node gone
 * from the view (a twin forgotten to make room at --max-nodes) takes its entry with it, so a page
 * left open while ids come and go does not hold one entry per id ever seen; the pages are told it
 * is gone (a node retired, one forgotten for room), and drop it from their list.
 */
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { ConsoleNode } from "../../view/source.js";
import { EventHub } from "../events.js";
import { QuietSource } from "./helpers.js";

/** A view that names the nodes that changed, as the twins' does. */
class NamingSource extends QuietSource {
  readonly title = "naming";
  readonly byId = new Map<NodeId, ConsoleNode>();
  now = () => 0;
  nodes = () => [...this.byId.values()];
  override node = (id: NodeId) => this.byId.get(id);
}

/** A page that reads everything: the response's calls the hub makes. */
function page(): ServerResponse & { text: string } {
  const res = {
    text: "",
    writableEnded: false,
    destroyed: false,
    writableLength: 0,
    writeHead: () => res,
    end: () => res,
    on: () => res,
    write: (s: string) => {
      res.text += s;
      return true;
    },
  };
  return res as unknown as ServerResponse & { text: string };
}

it("forgets what it showed of a node gone from the view", () => {
  const source = new NamingSource();
  const sched = new FakeScheduler(0);
  const hub = new EventHub(source, "twins", sched);
  const res = page();
  hub.attach(res);
  const cycles = 500;
  for (let i = 0; i < cycles; i++) {
    const id = NodeId(`m-${i}`);
    source.byId.set(id, { id, kind: "real", on: true, online: false, sync: "unknown", version: 1 });
    source.events.emit("node", id);
    source.events.emit("changed");
    sched.advance(50);
    source.byId.delete(id); // forgotten to make room for the next
    source.events.emit("node", id);
    source.events.emit("changed");
    sched.advance(50);
  }
  expect(res.text).toContain('"id":"m-499"');
  // The page is told, and drops it from its list (web/public/store.js).
  expect(res.text).toContain('event: nodes\ndata: {"nodes":[],"gone":["m-499"]}');
  expect((hub as unknown as { shown: Map<string, string> }).shown.size).toBe(0);
  hub.close();
});

it("takes a node gone from the fleet off the page's list, also one the stream brought while the list was read", async () => {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "store.js")).href;
  type Node = { id: string; on: boolean; version: number };
  const { Store } = (await import(url)) as {
    Store: new () => {
      ids: string[];
      streamBegan(): void;
      reset(list: Node[]): void;
      apply(list: Node[], at: number, gone?: string[]): void;
    };
  };
  const store = new Store();
  store.reset([
    { id: "n-1", on: true, version: 1 },
    { id: "n-2", on: true, version: 1 },
  ]);
  store.apply([], 0, ["n-1"]);
  expect(store.ids).toEqual(["n-2"]);
  store.streamBegan();
  store.apply([{ id: "n-3", on: true, version: 2 }], 0);
  store.apply([], 0, ["n-3"]);
  store.reset([
    { id: "n-2", on: true, version: 1 },
    { id: "n-3", on: true, version: 2 }, // read before n-3 went: it does not come back
  ]);
  expect(store.ids).toEqual(["n-2"]);
});
