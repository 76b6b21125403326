// The fleet a twins.json is of: a store names the topic prefix of its fleet, and a service started on
// another fleet's directory stops, naming both prefixes, where it served that fleet's desire as its own
// (pairings sent to nodes of another fleet, its pending pairings marked pending again).
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { DesireSaver } from "../desire-saver.js";
import { startTwins } from "../service.js";
import { type DesiredRecord, jsonFileStore, STORE_FILE } from "../store.js";
import { JOURNAL_FILE, journalHeader } from "../store-journal.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "tf-store-fleet-"));
  dirs.push(d);
  return d;
}

const rec = (source: string, configVersion = 1): DesiredRecord => ({
  sources: [NodeId(source)],
  configVersion,
  kind: "sim",
});

describe("the fleet a twins.json is of", () => {
  it("refuses another fleet's files, naming both prefixes and what to do, and leaves them as they are", async () => {
    const dir = await tempDir();
    const snapshot = `${JSON.stringify({ format: 3, journal: 4, fleet: "tf", nodes: { "n-1": rec("n-2") } }, null, 1)}\n`;
    const journal = `${journalHeader(4)}${JSON.stringify({ node: "n-2", record: rec("n-1", 3) })}\n`;
    await writeFile(join(dir, STORE_FILE), snapshot);
    await writeFile(join(dir, JOURNAL_FILE), journal);
    const refused =
      `twins store ${join(dir, STORE_FILE)} holds the desired state of the fleet under prefix tf, and this ` +
      "service watches prefix lab: start it with --prefix tf to run that fleet, or give the fleet under " +
      "prefix lab a data directory of its own (the file is left as it is;";
    const store = await jsonFileStore(dir);
    await expect(store.load("lab")).rejects.toThrow(refused);
    await store.close();
    // Started as a service: refused before the broker is reached, the directory let go of.
    await expect(
      startTwins({ url: "mqtt://127.0.0.1:1", prefix: "lab", store: await jsonFileStore(dir) }),
    ).rejects.toThrow(refused);
    expect((await readdir(dir)).sort()).toEqual([JOURNAL_FILE, STORE_FILE].sort());
    expect(await readFile(join(dir, STORE_FILE), "utf8")).toBe(snapshot);
    expect(await readFile(join(dir, JOURNAL_FILE), "utf8")).toBe(journal);
    // Its own fleet reads it, journal and all.
    const own = await jsonFileStore(dir);
    expect(await own.load("tf")).toEqual({ nodes: { "n-1": rec("n-2"), "n-2": rec("n-1", 3) } });
    await own.close();
  });

  it("takes a file that names no fleet as this one's, says so, and names the fleet from its next rewrite on", async () => {
    const dir = await tempDir();
    const nodes: Record<string, DesiredRecord> = { "n-1": rec("n-2"), "n-2": rec("n-1") };
    await writeFile(join(dir, STORE_FILE), JSON.stringify({ format: 1, nodes }));
    const log: string[] = [];
    const store = await jsonFileStore(dir, pino({ level: "info" }, { write: (s: string) => log.push(s) }));
    expect(await store.load("lab")).toEqual({ nodes });
    expect(log.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      `twins: ${join(dir, STORE_FILE)} does not name the fleet it is of (written by an earlier twinfleet): taken as the state of the fleet under prefix lab, which its next rewrite names`,
    ]);
    const saver = new DesireSaver(
      store,
      {
        whole: () => ({ nodes: { ...nodes } }),
        records: (ids) => new Map([...ids].map((id) => [id, nodes[id]])),
      },
      pino({ level: "silent" }),
    );
    nodes["n-1"] = rec("n-2", 2);
    saver.save("n-1");
    expect(await saver.written()).toBeUndefined();
    expect(JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")).fleet).toBe("lab");
    await saver.close(); // a clean stop: format 1 again, still naming its fleet
    await store.close();
    const stopped = JSON.parse(await readFile(join(dir, STORE_FILE), "utf8"));
    expect([stopped.format, stopped.fleet]).toEqual([1, "lab"]);
    const other = await jsonFileStore(dir);
    await expect(other.load("tf")).rejects.toThrow("holds the desired state of the fleet under prefix lab");
    await other.close();
    const again = await jsonFileStore(dir);
    expect(await again.load("lab")).toEqual({ nodes });
    await again.close();
  });
});
