/**
 * The bound on the last-seen dates a minute's look stores (twins/stored-seen.ts, the saver's
 * DATES_MAX_NODES): a fleet of N nodes all heard appended every node's record each minute, which on
 * 100,000 nodes held the event loop over a second; now at most DATES_MAX_NODES records a minute, the
 * nodes stored longest ago first, so every node's stored date is at most ceil(N / DATES_MAX_NODES)
 * minutes behind. Nodes restored and not heard since are not written again.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { DATES_EVERY_MS, DATES_MAX_NODES, DesireSaver } from "../desire-saver.js";
import { TwinRegistry } from "../registry.js";
import { jsonFileStore, type TwinsStore } from "../store.js";
import { datedState, restoreDated } from "../stored-dates.js";

const EPOCH = 1_800_000_000_000;
const quiet = pino({ level: "silent" });
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A store in a fresh directory, counting the records of each append, and the nodes they name. */
async function countingStore(): Promise<{ dir: string; store: TwinsStore; appends: string[][] }> {
  const dir = await mkdtemp(join(tmpdir(), "tf-dates-bound-"));
  dirs.push(dir);
  const real = await jsonFileStore(dir);
  const appends: string[][] = [];
  const store: TwinsStore = {
    ...real,
    append: (changes, whole) => {
      appends.push([...changes.keys()]);
      return real.append?.(changes, whole) ?? Promise.resolve();
    },
  };
  return { dir, store, appends };
}

/** `id` heard now (a register: its last-seen time moves to `now()`). */
const hear = (registry: TwinRegistry, sched: FakeScheduler, id: string) =>
  registry.receive(`tf/register/${id}`, "G1 sim uno-w5100 1.0.0", 1, sched.now());

it("stores at most DATES_MAX_NODES dates a minute, those stored longest ago first, so each is ceil(N / K) minutes behind at most", async () => {
  const { dir, store, appends } = await countingStore();
  await store.load("tf");
  const sched = new FakeScheduler(0, EPOCH);
  const registry = new TwinRegistry(Prefix("tf"));
  const saver = new DesireSaver(store, datedState(registry, sched), quiet, {
    scheduler: sched,
    gapMs: () => 0,
  });
  const n = 2 * DATES_MAX_NODES + DATES_MAX_NODES / 2;
  const ids = Array.from({ length: n }, (_, i) => `n-${i}`);
  for (const id of ids) hear(registry, sched, id);
  saver.save(); // registered: the whole state, dates and all
  await saver.flush();
  const minutes = Math.ceil(n / DATES_MAX_NODES);
  // Every node heard all along, each minute; the looks store some of them.
  for (let m = 0; m < 2 * minutes; m++) {
    sched.advance(DATES_EVERY_MS / 2);
    for (const id of ids) hear(registry, sched, id);
    sched.advance(DATES_EVERY_MS / 2);
    await saver.flush();
  }
  expect(appends.map((a) => a.length)).toEqual(Array(2 * minutes).fill(DATES_MAX_NODES));
  // Any `minutes` looks in a row store every node: none is left behind more than that.
  for (let m = 0; m + minutes <= appends.length; m++)
    expect(new Set(appends.slice(m, m + minutes).flat()).size).toBe(n);
  // Killed (a power cut): what a restart reads is at most `minutes` minutes behind each node.
  const lastHeard = sched.now() - DATES_EVERY_MS / 2;
  saver.kill();
  await store.close();
  const again = await jsonFileStore(dir);
  const stored = (await again.load("tf")).nodes;
  await again.close();
  const behind = ids.map((id) => EPOCH + lastHeard - (stored[id]?.lastSeen ?? Number.NaN));
  expect(Math.max(...behind)).toBeLessThanOrEqual(minutes * DATES_EVERY_MS);
  expect(Math.min(...behind)).toBe(0);
});

it("writes no date of a node restored and not heard since, and the dates of those heard after a restart", async () => {
  const { store, appends } = await countingStore();
  const sched = new FakeScheduler(0, EPOCH);
  const first = new TwinRegistry(Prefix("tf"));
  for (const id of ["quiet", "loud"]) hear(first, sched, id);
  await store.save(first.snapshot(EPOCH), true);
  // Restarted on that store, a minute later: one node is heard again, the other never.
  sched.advance(DATES_EVERY_MS);
  const registry = new TwinRegistry(Prefix("tf"));
  restoreDated(registry, await store.load("tf"), sched, quiet);
  const saver = new DesireSaver(store, datedState(registry, sched), quiet, {
    scheduler: sched,
    gapMs: () => 0,
  });
  sched.advance(DATES_EVERY_MS);
  await saver.flush();
  expect(appends).toEqual([]);
  hear(registry, sched, "loud");
  sched.advance(DATES_EVERY_MS);
  await saver.flush();
  expect(appends).toEqual([["loud"]]);
  saver.kill();
  await store.close();
});
