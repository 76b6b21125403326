/**
 * The page's filtered view (web/public/store.js `view()`) stays the same array while the same nodes
 * pass the filter: the fleet map and the list take a new array for a new view, and the map then
 * clears its canvas and paints every node again. With a search or a filter on, every batch of the
 * event stream (up to 20 a second) made a new one, and at 8,000 nodes the page spent 30 % of its main
 * thread repainting the map (docs/web.md "The fleet page").
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

interface Node {
  readonly id: string;
  readonly on: boolean;
  readonly online: boolean;
  readonly version: number;
}
interface Store {
  reset(list: readonly Node[]): void;
  apply(list: readonly Node[], receivedAt: number): void;
  setFilter(patch: Record<string, string>): void;
  view(): readonly string[];
}

async function newStore(): Promise<Store> {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "store.js")).href;
  const { Store } = (await import(url)) as { Store: new () => Store };
  return new Store();
}

const id = (i: number) => `n-${String(i).padStart(4, "0")}`;

it("keeps the filtered view while the nodes that pass stay the same, and makes a new one when they change", async () => {
  const s = await newStore();
  s.reset(Array.from({ length: 100 }, (_, i) => ({ id: id(i), on: false, online: true, version: 1 })));
  s.setFilter({ q: "7", online: "true" });
  const first = s.view();
  expect(first).toEqual([7, 17, 27, 37, 47, 57, 67, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 87, 97].map(id));
  // Presses everywhere, in the view and out of it: the same nodes pass the filter.
  for (let v = 2; v < 5; v++) {
    s.apply(
      [id(7), id(8), id(71)].map((n) => ({ id: n, on: v % 2 === 0, online: true, version: v })),
      v,
    );
    expect(s.view()).toBe(first);
  }
  // One goes offline: it leaves the view, a new array.
  s.apply([{ id: id(17), on: true, online: false, version: 9 }], 10);
  const second = s.view();
  expect(second).not.toBe(first);
  expect(second).not.toContain(id(17));
  expect(second).toHaveLength(first.length - 1);
  s.apply([{ id: id(27), on: true, online: true, version: 9 }], 11);
  expect(s.view()).toBe(second);
});
