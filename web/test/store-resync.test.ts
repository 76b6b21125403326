/**
 * The page's store (web/public/store.js) across a new event stream: the node list read for it
 * (GET /api/nodes) may have been taken before some of the stream's first batches, and must not put
 * a node back to what it was; nodes from before the stream (maybe another server's) are replaced.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

interface Node {
  readonly id: string;
  readonly on: boolean;
  readonly version: number;
}
interface Store {
  nodes: Map<string, Node>;
  ids: string[];
  streamBegan(): void;
  reset(list: readonly Node[]): void;
  apply(list: readonly Node[], receivedAt: number): void;
}

async function newStore(): Promise<Store> {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "store.js")).href;
  const { Store } = (await import(url)) as { Store: new () => Store };
  return new Store();
}

const node = (id: string, on: boolean, version: number): Node => ({ id, on, version });

it("keeps what the stream brought while the node list was read, and takes the list for the rest", async () => {
  const store = await newStore();
  // The previous server's view: versions up to 40.
  store.reset([node("n-1", true, 40), node("n-2", true, 40), node("n-3", true, 40)]);
  // A new stream (a restarted server counting from 0): a batch comes before the list's answer.
  store.streamBegan();
  store.apply([node("n-1", false, 6), node("n-4", true, 1)], 0);
  store.apply([node("n-1", true, 5)], 0);
  // The list was read before n-1's change and before n-4 existed.
  store.reset([node("n-1", true, 5), node("n-2", false, 3), node("n-3", true, 2)]);
  expect([...store.nodes.values()]).toEqual([
    node("n-1", false, 6),
    node("n-2", false, 3),
    node("n-3", true, 2),
    node("n-4", true, 1),
  ]);
  expect(store.ids).toEqual(["n-1", "n-2", "n-3", "n-4"]);
  // Once replaced, the list's versions rule as before: an older batch changes nothing.
  store.apply([node("n-2", true, 2)], 0);
  expect(store.nodes.get("n-2")).toEqual(node("n-2", false, 3));
});

it("takes a list newer than the stream's batch", async () => {
  const store = await newStore();
  store.streamBegan();
  store.apply([node("n-1", true, 3)], 0);
  store.reset([node("n-1", false, 4)]);
  expect(store.nodes.get("n-1")).toEqual(node("n-1", false, 4));
});
