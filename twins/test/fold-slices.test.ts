// A fold of the journal taken and written a slice at a time (twins/store-slices.ts), with changes
// arriving between two slices, on a service's registry, saver and store: none is lost, and the last
// change of a node wins. Those made while the fold is under way belong to the new snapshot's journal,
// written after it: in the snapshot or not, depending on the slice, they are in that journal.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { DesireSaver } from "../desire-saver.js";
import { TwinRegistry } from "../registry.js";
import { jsonFileStore, STORE_FILE, type TwinsStore } from "../store.js";
import { JOURNAL_FILE, readJournal } from "../store-journal.js";
import { datedState } from "../stored-dates.js";

const quiet = pino({ level: "silent" });
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const NODES = 4_000;
const id = (i: number) => `n-${String(i).padStart(5, "0")}`;

it("keeps every change made between the slices of a fold, in order, in the new snapshot's journal", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tf-fold-slices-"));
  dirs.push(dir);
  const sched = new FakeScheduler(0, 1_800_000_000_000);
  const registry = new TwinRegistry(Prefix("tf"));
  /** Turns of the event loop a fold made, and what runs at a given one (a change arriving). */
  let folding = false;
  let foldTurns = 0;
  const at = new Map<number, () => void>();
  const turn = async () => {
    if (!folding) return;
    foldTurns++;
    at.get(foldTurns)?.();
  };
  const slicing = { records: 500, turn };
  const real = await jsonFileStore(dir, quiet, slicing);
  await real.load("tf");
  let folds = 0;
  const store: TwinsStore = {
    ...real,
    // An append's whole state, asked for when it folds the journal: the fold's walk and write follow.
    append: (changes, whole) =>
      real.append?.(changes, () => {
        folds++;
        folding = true;
        return whole();
      }) ?? Promise.resolve(),
  };
  const saver = new DesireSaver(store, datedState(registry, sched, slicing), quiet);
  const change = (i: number, firmware: string) => {
    registry.receive(`tf/register/${id(i)}`, `G1 sim uno-w5100 ${firmware}`, 1, sched.now());
    saver.save(id(i));
  };
  for (let i = 0; i < NODES; i++) change(i, "1.0.0");
  saver.save(); // the first write: whole
  await saver.flush();
  expect(folds).toBe(0);
  // The walk takes 8 slices of 500 twins, the write 8 of 500 records: turns 1-8, then 9-16.
  at.set(2, () => change(10, "2.0.0")); // walked already
  at.set(3, () => change(NODES - 1, "2.0.0")); // not walked yet
  at.set(4, () => change(NODES, "2.0.0")); // a new node
  at.set(10, () => change(10, "3.0.0")); // as the snapshot is written: after its 2.0.0
  at.set(12, () => change(NODES - 1, "3.0.0"));
  // Appends of every node until the journal passes the snapshot and folds into a new one.
  for (let round = 0; round < 6 && folds === 0; round++) {
    for (let i = 0; i < NODES; i++) saver.save(id(i));
    await saver.flush();
  }
  expect(folds).toBe(1);
  folding = false;
  expect(foldTurns).toBeGreaterThanOrEqual(16);

  const snapshot = JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")) as {
    journal: number;
    nodes: Record<string, { firmware: string }>;
  };
  const journal = await readJournal(join(dir, JOURNAL_FILE), snapshot.journal, quiet, "");
  // The walk had taken node 10 before its change, and took the last node after its first.
  expect(snapshot.nodes[id(10)]?.firmware).toBe("1.0.0");
  expect(snapshot.nodes[id(NODES - 1)]?.firmware).toBe("2.0.0");
  expect(journal?.changes.get(id(10))).toMatchObject({ firmware: "3.0.0" });
  expect(journal?.changes.get(id(NODES - 1))).toMatchObject({ firmware: "3.0.0" });
  expect(journal?.changes.get(id(NODES))).toMatchObject({ firmware: "2.0.0" });

  // A start after a kill -9 (the saver never closed): what the snapshot and its journal say together.
  saver.kill();
  await real.close();
  const again = await jsonFileStore(dir, quiet);
  const { nodes } = await again.load("tf");
  await again.close();
  expect(Object.keys(nodes)).toHaveLength(NODES + 1);
  expect(nodes[id(10)]?.firmware).toBe("3.0.0");
  expect(nodes[id(NODES - 1)]?.firmware).toBe("3.0.0");
  expect(nodes[id(NODES)]?.firmware).toBe("2.0.0");
  expect(nodes[id(11)]?.firmware).toBe("1.0.0");
  expect(nodes).toEqual(registry.snapshot(sched.wallNow() - sched.now()).nodes);
});
