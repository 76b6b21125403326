// A journal left out at a start (another snapshot's: a clean stop cut by a power loss, then an older
// build's days on the directory, which wrote a twins.json naming no journal) must not match the next
// snapshot's generation: a crash between that snapshot's rename and its own journal's would replay
// the stale changes over it.
import { mkdtemp, readFile, rm as remove, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { jsonFileStore, LOCK_FILE, STORE_FILE } from "../store.js";
import { JOURNAL_FILE, journalHeader } from "../store-journal.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const rec = (source: string, configVersion: number) => ({ sources: [source], configVersion, kind: "sim" });

describe("a journal left out at a start", () => {
  it("is never taken as the next snapshot's, even when a crash leaves it beside that snapshot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tf-stale-journal-"));
    dirs.push(dir);
    // An older build's format 1 file (no journal named), and generation 1's journal beside it.
    await writeFile(
      join(dir, STORE_FILE),
      JSON.stringify({ format: 1, nodes: { "n-0001": rec("n-0000", 4) } }),
    );
    const stale = `${journalHeader(1)}${JSON.stringify({ node: "n-0001", record: rec("n-0005", 2) })}\n`;
    await writeFile(join(dir, JOURNAL_FILE), stale);

    let store = await jsonFileStore(dir);
    const state = await store.load("tf");
    expect(state.nodes["n-0001"]?.sources).toEqual(["n-0000"]); // left out: another snapshot's
    await store.save(state, true); // the first change's whole write
    const written = JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")) as { journal: number };
    expect(written.journal).toBeGreaterThan(1);
    await store.close?.();

    // A crash after the snapshot's rename, before its own journal's: the stale journal still there.
    await writeFile(join(dir, JOURNAL_FILE), stale);
    await remove(join(dir, LOCK_FILE), { force: true });
    store = await jsonFileStore(dir);
    expect((await store.load("tf")).nodes["n-0001"]?.sources).toEqual(["n-0000"]);
    await store.close?.();
  });
});
