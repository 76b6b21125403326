// A whole snapshot written a slice of records at a time (twins/store-slices.ts): the same bytes as
// the text made at once (snapshotText), whatever the slice, and the event loop turned between two.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { type DesiredRecord, jsonFileStore, STORE_FILE, type StoredState } from "../store.js";
import { snapshotText } from "../store-format.js";
import { snapshotSlices } from "../store-slices.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** `n` nodes with every field a record has, strings that JSON escapes among them. */
function fleet(n: number, withOfflineWrites = true): StoredState {
  const nodes: Record<string, DesiredRecord> = {};
  for (let i = 0; i < n; i++) {
    const src = NodeId(`n-${(i + 1) % n}`);
    nodes[`n-${i}`] = {
      sources: i % 3 === 0 ? [] : [src],
      configVersion: i,
      ...(i % 2 === 0 ? { pendingSet: { on: i % 4 === 0, counter: i * 7 } } : {}),
      ...(i % 5 === 0 ? { pending: true } : {}),
      kind: "sim",
      profile: i % 4 === 1 ? 'uno "w5100"\n\u00e9\u2028' : "uno-w5100",
      firmware: "1.0.0",
      lastSeen: 1_764_000_000_000 + i / 3,
      ...(withOfflineWrites && i % 6 === 1
        ? { offlineWrites: [{ version: 2, sources: [src], before: [], taken: [[], [src]] }] }
        : {}),
    };
  }
  return { nodes };
}

const broker = { startedAt: 1_764_000_000_000, clientId: "b-1" } as never;

it("makes the same text as snapshotText, byte for byte, in slices of any size", () => {
  for (const n of [0, 1, 2, 7, 50])
    for (const records of [1, 3, 50, Number.POSITIVE_INFINITY])
      for (const [fleetName, seen] of [
        ["tf", broker],
        [undefined, undefined],
      ] as const) {
        const state = fleet(n);
        const slices = [...snapshotSlices(3, 9, fleetName, state, seen, records)];
        expect(slices.join("")).toBe(snapshotText(3, 9, fleetName, state, seen));
        expect(slices.length).toBe(Number.isFinite(records) ? Math.floor(n / records) + 1 : 1);
      }
});

it("leaves out a node whose record is undefined, as JSON.stringify does", () => {
  const state = { nodes: { ...fleet(3).nodes, "n-9": undefined as unknown as DesiredRecord } };
  expect([...snapshotSlices(1, 2, "tf", state, undefined, 2)].join("")).toBe(snapshotText(1, 2, "tf", state));
  const none = { nodes: { "n-9": undefined as unknown as DesiredRecord } };
  expect([...snapshotSlices(1, 2, "tf", none, undefined, 2)].join("")).toBe(snapshotText(1, 2, "tf", none));
});

it("writes the file a slice at a time, turning the event loop between two, the bytes of the text made at once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tf-slices-"));
  dirs.push(dir);
  let turns = 0;
  const store = await jsonFileStore(dir, undefined, {
    records: 4,
    turn: async () => {
      turns++;
    },
  });
  await store.load("tf");
  const state = fleet(41);
  await store.save(state, true); // a fold's, in format 3
  expect(await readFile(join(dir, STORE_FILE), "utf8")).toBe(snapshotText(3, 1, "tf", state));
  expect(turns).toBe(11); // 10 slices of 4, the last node's, each followed by a turn
  await store.save(state); // a stop's: format 2, which its offline writes need
  expect(await readFile(join(dir, STORE_FILE), "utf8")).toBe(snapshotText(2, 2, "tf", state));
  const plain = fleet(9, false);
  await store.save(plain); // format 1
  expect(await readFile(join(dir, STORE_FILE), "utf8")).toBe(snapshotText(1, 3, "tf", plain));
  await store.close();
  const again = await jsonFileStore(dir);
  expect(await again.load("tf")).toEqual(plain);
  await again.close();
});
