/**
 * A journal with a line of megabytes in it (damage, another program's output written into the file):
 * the start passes over the line as it reads, never holding it whole, names it in one WARN by its
 * line, byte and length, and replays every record around it. Before, the whole journal was read as
 * one string (a 100 MB line took the start to 300 MB and more), and a long line before the last
 * stopped the start as a garbled one, the records after it unread.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { MAX_FOLLOWS, MAX_ID_LENGTH, NodeId } from "../../protocol/index.js";
import { DesireSaver, type SavedState } from "../desire-saver.js";
import { type DesiredRecord, jsonFileStore, MAX_OFFLINE_WRITES, STORE_FILE } from "../store.js";
import { JOURNAL_FILE, JOURNAL_MAX_LINE_BYTES, journalHeader, journalLines } from "../store-journal.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const record = (v: number): DesiredRecord => ({ sources: [NodeId("n-0")], configVersion: v });
/** A line of 3 MB that is no record: what damage or another program's writing leaves. */
const GARBAGE = `{"node":"n-9","record":${"x".repeat(3 * 1024 * 1024)}`;

/** A snapshot of n-1..n-3 at version 1, and a journal of `lines` over it, as a kill -9 leaves them. */
async function stored(lines: string): Promise<{ dir: string; nodes: Record<string, DesiredRecord> }> {
  dir = await mkdtemp(join(tmpdir(), "tf-journal-long-"));
  const nodes = { "n-1": record(1), "n-2": record(1), "n-3": record(1) };
  await writeFile(
    join(dir, STORE_FILE),
    `${JSON.stringify({ format: 3, journal: 7, fleet: "tf", nodes }, null, 1)}\n`,
  );
  await writeFile(join(dir, JOURNAL_FILE), journalHeader(7) + lines);
  return { dir, nodes };
}

const change = (id: string, v: number) => journalLines(new Map([[id, record(v)]]));

/** Loads the store of `d`, with the WARN lines it says; `then` runs on it before it is closed. */
async function load(
  d: string,
  then?: (saver: DesireSaver, nodes: Record<string, DesiredRecord>) => Promise<void>,
) {
  const log: string[] = [];
  const store = await jsonFileStore(d, pino({ level: "info" }, { write: (s: string) => log.push(s) }));
  const state = await store.load("tf");
  const nodes = { ...state.nodes };
  if (then !== undefined) {
    const saved: SavedState = {
      whole: () => ({ nodes: { ...nodes } }),
      records: (ids) => new Map([...ids].map((id) => [id, nodes[id]])),
    };
    await then(new DesireSaver(store, saved, pino({ level: "silent" })), nodes);
  }
  await store.close();
  const warns = log.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
  return { state, warns: warns.map((w) => w.msg) };
}

it("passes over a line of 3 MB before the last, naming it, and replays the records on both sides of it", async () => {
  const before = change("n-1", 2);
  const { dir: d, nodes } = await stored(`${before}${GARBAGE}\n${change("n-2", 3)}`);
  const text = await readFile(join(d, JOURNAL_FILE), "utf8");
  const { state, warns } = await load(d);
  expect(state.nodes).toEqual({ ...nodes, "n-1": record(2), "n-2": record(3) });
  const offset = journalHeader(7).length + before.length;
  expect(warns).toEqual([
    `twins: the journal ${join(d, JOURNAL_FILE)} has a line of ${GARBAGE.length} bytes (line 3, at byte ${offset}), where a record is at most ${JOURNAL_MAX_LINE_BYTES}: no build wrote it (damage, or another program's writing), so it is left out, not read, and the rest of the journal is replayed`,
  ]);
  // A start alone leaves the file as it is; the first change stored writes the state whole without it.
  expect(await readFile(join(d, JOURNAL_FILE), "utf8")).toBe(text);
  await load(d, async (saver, held) => {
    held["n-3"] = record(4);
    saver.save("n-3");
    expect(await saver.written()).toBeUndefined();
  });
  expect(await readFile(join(d, JOURNAL_FILE), "utf8")).not.toContain("xxx");
  const again = await load(d);
  expect(again.state.nodes).toEqual({ ...nodes, "n-1": record(2), "n-2": record(3), "n-3": record(4) });
  expect(again.warns).toEqual([]);
});

it("passes over a line of 3 MB ending the journal without a newline, and cuts it off before the next change", async () => {
  const { dir: d, nodes } = await stored(`${change("n-1", 2)}${change("n-2", 3)}${GARBAGE}`);
  const { state, warns } = await load(d, async (saver, held) => {
    held["n-3"] = record(4);
    saver.save("n-3");
    expect(await saver.written()).toBeUndefined();
  });
  expect(state.nodes).toEqual({ ...nodes, "n-1": record(2), "n-2": record(3) });
  expect(warns).toHaveLength(1);
  expect(warns[0]).toContain(`has a line of ${GARBAGE.length} bytes (line 4, at byte `);
  expect(warns[0]).toContain(
    "; the last, the file's last line and without its newline, is cut off before the next change is appended",
  );
  expect(await readFile(join(d, JOURNAL_FILE), "utf8")).not.toContain("xxx");
  const again = await load(d);
  expect(again.state.nodes).toEqual({ ...nodes, "n-1": record(2), "n-2": record(3), "n-3": record(4) });
  expect(again.warns).toEqual([]);
});

it("counts several long lines in the one WARN, naming the first", async () => {
  const { dir: d, nodes } = await stored(`${GARBAGE}\n${change("n-1", 2)}${GARBAGE}x\n${change("n-2", 3)}`);
  const { state, warns } = await load(d);
  expect(state.nodes).toEqual({ ...nodes, "n-1": record(2), "n-2": record(3) });
  expect(warns).toHaveLength(1);
  expect(warns[0]).toContain(
    `has a line of ${GARBAGE.length} bytes (line 2, at byte ${journalHeader(7).length} and 1 more, ${2 * GARBAGE.length + 1} bytes in all)`,
  );
});

it("holds the largest record a build writes well within the bound", async () => {
  const id = (i: number) => NodeId(`n${String(i).padStart(MAX_ID_LENGTH - 1, "0")}`);
  const sources = Array.from({ length: MAX_FOLLOWS }, (_, i) => id(i + 1));
  const largest: DesiredRecord = {
    sources,
    configVersion: Number.MAX_SAFE_INTEGER,
    pendingSet: { on: true, counter: 4_294_967_295 },
    pending: true,
    kind: "sim",
    profile: "p".repeat(16),
    firmware: "f".repeat(12),
    lastSeen: 1_796_600_000_000.123,
    offlineWrites: Array.from({ length: MAX_OFFLINE_WRITES }, () => ({
      version: Number.MAX_SAFE_INTEGER,
      sources,
      before: sources,
      taken: Array.from({ length: MAX_OFFLINE_WRITES }, () => sources),
    })),
  };
  const line = journalLines(new Map([[id(0), largest]]));
  expect(Buffer.byteLength(line)).toBeLessThan(JOURNAL_MAX_LINE_BYTES / 2);
  const { dir: d, nodes } = await stored(line);
  expect((await load(d)).state.nodes).toEqual({ ...nodes, [id(0)]: largest });
});
