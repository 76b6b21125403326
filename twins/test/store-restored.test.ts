// A twins.json restored from a backup over a later run's data directory is that backup's state: the
// later run's journal (written after another twins.json than the one put back) is set aside under a
// name of its own with one WARN, not replayed, and not replaced by the next journal: nothing is lost.
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { type DesiredRecord, jsonFileStore, STORE_FILE, type TwinsStore } from "../store.js";
import { JOURNAL_FILE, journalHeader } from "../store-journal.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const rec = (source: string, configVersion: number): DesiredRecord => ({
  sources: [NodeId(source)],
  configVersion,
  kind: "sim",
  lastSeen: 1_764_000_000_000,
});
const nodes = { "n-0001": rec("n-0000", 1), "n-0002": rec("n-0001", 1) };

/** The store on `dir`, its log lines kept in `log`. */
async function open(dir: string, log: string[]): Promise<TwinsStore> {
  return jsonFileStore(dir, pino({ level: "info" }, { write: (s: string) => log.push(s) }));
}
const warnings = (log: string[]) =>
  log.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);

async function killed(store: TwinsStore, dir: string): Promise<void> {
  await store.close(); // kill -9: no last save (the lock's removal aside, which a start takes over anyway)
  expect(await readdir(dir)).toContain(JOURNAL_FILE);
}

describe("a twins.json restored from a backup over a later run's directory", () => {
  it("is the backup's state: the later run's journal, of the same generation, is set aside", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tf-restored-"));
    dirs.push(dir);
    const log: string[] = [];
    let store = await open(dir, log);
    await store.load("tf");
    await store.save({ nodes }); // a clean stop: format 1, naming the next run's journal
    await store.close();
    const backup = join(dir, "..", `${STORE_FILE}.${process.pid}.backup`);
    await copyFile(join(dir, STORE_FILE), backup);
    dirs.push(backup);

    // The next run: its first change takes that snapshot on (its format digit set in place), then a
    // pairing more; then a kill -9, its changes in the journal alone.
    store = await open(dir, log);
    await store.load("tf");
    const whole = () => ({ nodes });
    await store.append?.(new Map([["n-0001", rec("n-0002", 2)]]), whole);
    await store.append?.(new Map([["n-0003", rec("n-0001", 1)]]), whole);
    await killed(store, dir);
    const journal = await readFile(join(dir, JOURNAL_FILE), "utf8");

    await copyFile(backup, join(dir, STORE_FILE)); // the backup put back, over that directory
    store = await open(dir, log);
    const state = await store.load("tf");
    expect(state.nodes).toEqual(nodes); // not n-0001 following n-0002, nor n-0003
    const gen = (JSON.parse(await readFile(backup, "utf8")) as { journal: number }).journal;
    expect(journal.startsWith(journalHeader(gen))).toBe(true); // the very snapshot's generation
    const aside = join(dir, `${JOURNAL_FILE}.${gen}.set-aside`);
    expect(await readFile(aside, "utf8")).toBe(journal); // kept whole
    expect(warnings(log).map((l) => l.msg)).toEqual([
      `twins: the journal ${join(dir, JOURNAL_FILE)} (generation ${gen}) was not written after the ${join(dir, STORE_FILE)} beside it (which is in format 1, as a clean stop left it, where the journal's first line would have made it format 3; the journal holds changes of 2 node(s): a twins.json restored from a backup, or moved away, over a later run's directory): set aside as ${aside}, not replayed, so this start holds that twins.json's state alone; nothing is deleted`,
    ]);

    // This run goes on from the backup's state; its own journal, and the one set aside, both kept.
    await store.append?.(new Map([["n-0002", rec("n-0000", 2)]]), whole);
    await killed(store, dir);
    expect(await readFile(aside, "utf8")).toBe(journal);
    store = await open(dir, []);
    expect((await store.load("tf")).nodes["n-0002"]).toEqual(rec("n-0000", 2));
    expect((await store.load("tf")).nodes["n-0001"]).toEqual(rec("n-0000", 1));
    await store.close();
  });

  it("sets aside a journal of a later generation, and one beside no twins.json, the next such one beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tf-restored-"));
    dirs.push(dir);
    // A backup's twins.json of generation 3, and a journal the later run wrote after its generation 5.
    await writeFile(
      join(dir, STORE_FILE),
      `${JSON.stringify({ format: 3, journal: 3, fleet: "tf", nodes }, null, 1)}\n`,
    );
    const later = `${journalHeader(5)}${JSON.stringify({ node: "n-0001", record: rec("n-0009", 7) })}\n`;
    await writeFile(join(dir, JOURNAL_FILE), later);
    const log: string[] = [];
    let store = await open(dir, log);
    expect((await store.load("tf")).nodes).toEqual(nodes);
    expect(await readFile(join(dir, `${JOURNAL_FILE}.5.set-aside`), "utf8")).toBe(later);
    expect(warnings(log)).toHaveLength(1);
    expect(warnings(log)[0]?.msg).toContain("which names generation 3, before the journal's");
    await store.close();

    // twins.json moved away (to start without it), a journal of generation 5 beside nothing.
    await rm(join(dir, STORE_FILE));
    await writeFile(join(dir, JOURNAL_FILE), later);
    store = await open(dir, log);
    expect(await store.load("tf")).toEqual({ nodes: {} });
    expect(await readFile(join(dir, `${JOURNAL_FILE}.5.set-aside.2`), "utf8")).toBe(later);
    expect(warnings(log)[1]?.msg).toContain("beside it (there is none:");
    await store.close();
  });
});
