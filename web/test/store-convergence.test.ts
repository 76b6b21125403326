/**
 * The page's store (web/public/store.js) builds the convergence history from the `convergence`
 * frames between reads of /api/convergence: a frame's `unheard` (followers not heard since a broker
 * restart) goes into its point as the service's history has it, so the live chart tells a stretch
 * with every follower unheard from one with none online; a frame whose counts alone moved adds one.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

interface Point {
  readonly t: number;
  readonly fraction: number;
  readonly known?: number;
  readonly online?: number;
  readonly unheard?: number;
}
interface Store {
  convergence: { history: Point[] };
  setConvergence(c: object): void;
}

async function newStore(): Promise<Store> {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "store.js")).href;
  const { Store } = (await import(url)) as { Store: new () => Store };
  return new Store();
}

it("keeps each frame's unheard in its point, and adds one when only the counts moved", async () => {
  const store = await newStore();
  const frame = { fraction: 1, inSync: 50, known: 50 };
  store.setConvergence({ ...frame, history: [{ t: 0, fraction: 1, known: 50, online: 50 }], t: 0 });
  store.setConvergence({ ...frame, online: 0, unheard: 50, t: 1000 }); // the broker restarted
  store.setConvergence({ ...frame, online: 0, unheard: 50, t: 1500 }); // the time alone moved
  store.setConvergence({ ...frame, online: 20, unheard: 30, t: 2000 });
  store.setConvergence({ ...frame, online: 50, t: 3000 });
  expect(store.convergence.history).toEqual([
    { t: 0, fraction: 1, known: 50, online: 50 },
    { t: 1000, fraction: 1, known: 50, online: 0, unheard: 50 },
    { t: 2000, fraction: 1, known: 50, online: 20, unheard: 30 },
    { t: 3000, fraction: 1, known: 50, online: 50 },
  ]);
});
