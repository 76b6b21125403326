// The journal beside twins.json: a change costs its node's line, not a rewrite of every twin; a
// restart replays it over the snapshot; a line cut short by a kill -9 mid-append is left out with one
// WARN; a journal of a newer format is refused; a clean stop folds it into a file every build reads.
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { DesireSaver, SAVE_RETRY_MS, type SavedState } from "../desire-saver.js";
import { type DesiredRecord, jsonFileStore, LOCK_FILE, STORE_FILE, type StoredState } from "../store.js";
import { JOURNAL_FILE, JOURNAL_MIN_BYTES } from "../store-journal.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "tf-journal-"));
  dirs.push(d);
  return d;
}

/** `n` nodes in rings of 8, offline, as a site's store holds them. */
function fleet(n: number): Record<string, DesiredRecord> {
  const nodes: Record<string, DesiredRecord> = {};
  for (let i = 0; i < n; i++) {
    const id = `n-${String(i).padStart(5, "0")}`;
    const src = NodeId(`n-${String(i - (i % 8) + ((i + 1) % 8)).padStart(5, "0")}`);
    nodes[id] = {
      sources: [src],
      configVersion: 1,
      kind: "sim",
      profile: "uno-w5100",
      lastSeen: 1_764_000_000_000,
    };
  }
  return nodes;
}

/** A registry stand-in: the saver's view of a fleet whose records the test changes. */
function stateOf(nodes: Record<string, DesiredRecord>): SavedState {
  return {
    whole: () => ({ nodes: { ...nodes } }),
    records: (ids) => new Map([...ids].map((id) => [id, nodes[id]])),
  };
}

const lines = (log: string[]) => log.map((l) => JSON.parse(l) as { level: number; msg: string });

describe("the journal beside twins.json", () => {
  it("writes a change as its node's line, the 2,000-node snapshot left alone, and reads it back", async () => {
    const dir = await tempDir();
    const nodes = fleet(2000);
    const store = await jsonFileStore(dir);
    expect(await store.load()).toEqual({ nodes: {} });
    const saver = new DesireSaver(store, stateOf(nodes), pino({ level: "silent" }));
    saver.save("n-00000");
    await saver.written(); // the first write of a run is whole: format 3, a journal after it
    const snap = await stat(join(dir, STORE_FILE));
    const first = await stat(join(dir, JOURNAL_FILE));
    nodes["n-00003"] = {
      ...(nodes["n-00003"] as DesiredRecord),
      sources: [],
      configVersion: 2,
      pending: true,
    };
    delete nodes["n-00004"];
    saver.save("n-00003");
    saver.save("n-00004");
    expect(await saver.written()).toBeUndefined();
    const after = await stat(join(dir, STORE_FILE));
    expect(after.ino).toBe(snap.ino); // not replaced
    expect(after.mtimeMs).toBe(snap.mtimeMs);
    const written = (await stat(join(dir, JOURNAL_FILE))).size - first.size;
    expect(snap.size).toBeGreaterThan(200_000);
    expect(written).toBeLessThan(200); // two lines, against the snapshot's 200 kB and more
    const text = await readFile(join(dir, JOURNAL_FILE), "utf8");
    expect(text.trim().split("\n").slice(1)).toEqual([
      '{"node":"n-00003","record":{"sources":[],"configVersion":2,"kind":"sim","profile":"uno-w5100","lastSeen":1764000000000,"pending":true}}',
      '{"node":"n-00004"}',
    ]);
    await store.close(); // kill -9: no last save
    const again = await jsonFileStore(dir);
    expect(await again.load()).toEqual({ nodes });
    await again.close();
  });

  it("leaves out a last line cut short by a kill -9 mid-append, with one WARN naming it", async () => {
    const dir = await tempDir();
    const nodes = fleet(16);
    const store = await jsonFileStore(dir);
    await store.load();
    const saver = new DesireSaver(store, stateOf(nodes), pino({ level: "silent" }));
    saver.save("n-00001");
    await saver.written();
    nodes["n-00002"] = { sources: [], configVersion: 5 };
    saver.save("n-00002");
    await saver.written();
    await store.close();
    // What a kill -9 in the middle of the next append's write leaves: part of a line, no newline.
    await appendFile(join(dir, JOURNAL_FILE), '{"node":"n-00005","record":{"sources":["n-0');
    const log: string[] = [];
    const again = await jsonFileStore(dir, pino({ level: "info" }, { write: (s: string) => log.push(s) }));
    expect(await again.load()).toEqual({ nodes }); // n-00002's change in, the cut line out
    const warns = lines(log).filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toBe(
      `twins: the journal ${join(dir, JOURNAL_FILE)} ends in a line cut short (line 3, 43 bytes: a kill -9 or a power cut as it was written): left out, as its change was never answered as stored`,
    );
    // The first write after the start makes a new journal: the piece of a line is gone with the old one.
    const saver2 = new DesireSaver(again, stateOf(nodes), pino({ level: "silent" }));
    saver2.save("n-00007");
    await saver2.written();
    expect(await readFile(join(dir, JOURNAL_FILE), "utf8")).not.toContain('"n-00005"');
    await again.close();
  });

  it("refuses a journal in a newer format, naming it, and leaves it as it is", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, STORE_FILE), JSON.stringify({ format: 3, journal: 4, nodes: {} }));
    const text = `${JSON.stringify({ journal: 2, generation: 4 })}\n{"node":"n-1","delta":{}}\n`;
    await writeFile(join(dir, JOURNAL_FILE), text);
    const store = await jsonFileStore(dir);
    await expect(store.load()).rejects.toThrow(
      `twins journal ${join(dir, JOURNAL_FILE)} is in format 2, written by a newer twinfleet; this one reads formats up to 1: run a twinfleet that reads it`,
    );
    await store.close();
    expect(await readFile(join(dir, JOURNAL_FILE), "utf8")).toBe(text);
  });

  it("folds the journal into a new snapshot once it outgrows it, and at a clean stop into format 1", async () => {
    const dir = await tempDir();
    const nodes = fleet(8);
    const store = await jsonFileStore(dir);
    await store.load();
    const saver = new DesireSaver(store, stateOf(nodes), pino({ level: "silent" }));
    const generations = new Set<number>();
    // Each change a long firmware string, so the journal passes its bound within a few hundred.
    for (
      let i = 0;
      (await stat(join(dir, JOURNAL_FILE)).catch(() => undefined)) === undefined || i < 400;
      i++
    ) {
      nodes["n-00001"] = { sources: [], configVersion: i + 1, firmware: "x".repeat(4000) };
      saver.save("n-00001");
      await saver.written();
      generations.add(JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")).journal);
      expect((await stat(join(dir, JOURNAL_FILE))).size).toBeLessThanOrEqual(JOURNAL_MIN_BYTES + 5000);
    }
    expect(generations.size).toBeGreaterThan(1); // folded at least once
    await saver.close();
    await store.close();
    expect(await readdir(dir)).toEqual([STORE_FILE]);
    const file = JSON.parse(await readFile(join(dir, STORE_FILE), "utf8"));
    expect(file.format).toBe(1);
    // The generation of the next run's journal, which its first change starts without a rewrite.
    expect(file.journal).toBeGreaterThan(Math.max(...generations));
    expect(file.nodes["n-00001"].configVersion).toBe(400);
    const again = await jsonFileStore(dir);
    expect(await again.load()).toEqual({ nodes });
    await again.close();
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
  });
});

describe("a change answered once its append is written", () => {
  it("does not wait for the spacing of whole saves beside a large fleet", async () => {
    const dir = await tempDir();
    const sched = new FakeScheduler(0);
    const nodes = fleet(64);
    const store = await jsonFileStore(dir);
    await store.load();
    // 20,000 twins' spacing: 2 s between the starts of two whole saves.
    const saver = new DesireSaver(store, stateOf(nodes), pino({ level: "silent" }), {
      scheduler: sched,
      gapMs: () => 2000,
    });
    saver.save("n-00000");
    await saver.written();
    // Each answered with the clock standing still: a wait for a whole save's slot would never end
    // (the test's timeout), as the fake clock moves only when told.
    for (let i = 1; i <= 5; i++) {
      nodes["n-00009"] = { sources: [], configVersion: i };
      saver.save("n-00009");
      expect(await saver.written()).toBeUndefined();
    }
    expect(sched.now()).toBe(0);
    const state: StoredState = await (async () => {
      await store.close();
      const again = await jsonFileStore(dir);
      const s = await again.load();
      await again.close();
      return s;
    })();
    expect(state.nodes["n-00009"]).toEqual({ sources: [], configVersion: 5 });
  }, 20_000);
});

describe("an append that fails", () => {
  it("is said once, retried whole, and `saved again` once written, the change stored", async () => {
    const dir = await tempDir();
    const sched = new FakeScheduler(0);
    const nodes = fleet(16);
    const store = await jsonFileStore(dir);
    await store.load();
    const log: string[] = [];
    const saver = new DesireSaver(
      store,
      stateOf(nodes),
      pino({ level: "info" }, { write: (s: string) => log.push(s) }),
      {
        scheduler: sched,
        gapMs: () => 0,
      },
    );
    saver.save("n-00000");
    expect(await saver.written()).toBeUndefined();
    // The journal made unwritable: a directory in its place (running as root, modes do not stop a write).
    await rm(join(dir, JOURNAL_FILE));
    await mkdir(join(dir, JOURNAL_FILE));
    nodes["n-00002"] = { sources: [], configVersion: 9 };
    saver.save("n-00002");
    expect(await saver.written()).toMatch(/^it cannot be saved to .*twins\.json \(EISDIR/);
    await rm(join(dir, JOURNAL_FILE), { recursive: true });
    sched.advance(SAVE_RETRY_MS);
    await saver.flush();
    const msgs = lines(log).map((l) => l.msg);
    expect(msgs.filter((m) => m.startsWith("twins: the desired state cannot be saved"))).toHaveLength(1);
    expect(msgs.at(-1)).toBe(`twins: the desired state is saved again to ${join(dir, STORE_FILE)}`);
    await store.close();
    const again = await jsonFileStore(dir);
    expect((await again.load()).nodes["n-00002"]).toEqual({ sources: [], configVersion: 9 });
    await again.close();
  });
});

describe("the first change after a start", () => {
  /** A saver over `nodes` on the store of `dir`, loaded. */
  async function opened(dir: string, nodes: Record<string, DesiredRecord>) {
    const store = await jsonFileStore(dir);
    await store.load();
    return { store, saver: new DesireSaver(store, stateOf(nodes), pino({ level: "silent" })) };
  }
  async function change(saver: DesireSaver, nodes: Record<string, DesiredRecord>, id: string, v: number) {
    nodes[id] = { sources: [], configVersion: v };
    saver.save(id);
    expect(await saver.written()).toBeUndefined();
  }
  const loaded = async (dir: string) => {
    const again = await jsonFileStore(dir);
    const s = await again.load();
    await again.close();
    return s;
  };

  it("after a clean stop is a journal line: the snapshot is marked format 3 in place, not rewritten", async () => {
    const dir = await tempDir();
    const nodes = fleet(2000);
    const first = await opened(dir, nodes);
    await change(first.saver, nodes, "n-00001", 2);
    await first.saver.close(); // a clean stop: format 1, no journal
    await first.store.close();
    const stopped = await stat(join(dir, STORE_FILE));
    const { journal: gen } = JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")) as { journal: number };
    const { store, saver } = await opened(dir, nodes);
    await change(saver, nodes, "n-00002", 3);
    const marked = await stat(join(dir, STORE_FILE));
    expect([marked.ino, marked.size]).toEqual([stopped.ino, stopped.size]); // the same file, not a new one
    const head = (await readFile(join(dir, STORE_FILE), "utf8")).split("\n").slice(0, 4);
    expect(head).toEqual(["{", ' "format": 3,', ` "journal": ${gen},`, ' "nodes": {']);
    expect(await readFile(join(dir, JOURNAL_FILE), "utf8")).toBe(
      `${JSON.stringify({ journal: 1, generation: gen })}\n${JSON.stringify({ node: "n-00002", record: nodes["n-00002"] })}\n`,
    );
    await store.close(); // kill -9
    expect(await loaded(dir)).toEqual({ nodes });
  });

  it("after a kill -9 goes on with the journal found, a line cut short cut off first", async () => {
    const dir = await tempDir();
    const nodes = fleet(2000);
    const first = await opened(dir, nodes);
    await change(first.saver, nodes, "n-00001", 2);
    await change(first.saver, nodes, "n-00003", 4);
    await first.store.close(); // kill -9 mid-append: part of a line, never answered
    await appendFile(join(dir, JOURNAL_FILE), '{"node":"n-00005","record":{"sources":["n-0');
    const snap = await stat(join(dir, STORE_FILE));
    // The run's first write was whole (n-00001 in the snapshot): a header, n-00003's line, the piece.
    const before = (await readFile(join(dir, JOURNAL_FILE), "utf8")).split("\n").slice(0, 2);
    const { store, saver } = await opened(dir, nodes);
    await change(saver, nodes, "n-00007", 5);
    await change(saver, nodes, "n-00001", 6);
    const after = await stat(join(dir, STORE_FILE));
    expect([after.ino, after.mtimeMs]).toEqual([snap.ino, snap.mtimeMs]);
    const lines = (await readFile(join(dir, JOURNAL_FILE), "utf8")).split("\n");
    expect(lines.slice(0, 2)).toEqual(before); // its lines kept, the piece after them gone
    expect(lines.slice(2)).toEqual([
      JSON.stringify({ node: "n-00007", record: nodes["n-00007"] }),
      JSON.stringify({ node: "n-00001", record: nodes["n-00001"] }),
      "",
    ]);
    await store.close(); // kill -9 again
    expect(await loaded(dir)).toEqual({ nodes });
  });
});
