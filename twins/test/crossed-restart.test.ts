/**
 * Two pairings of an offline node written at once, and the twins service killed (no goodbye, as by
 * kill -9 or a power cut) between its write and the other's: the service started again on the same
 * store still takes the other's write as a crossing and keeps both pairings. Before, the configs it
 * wrote for a node away were kept in memory only: the restarted service took the other's config as
 * an older copy, and the node returning was sent this service's pairing alone, undoing the other's
 * without a word.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";
import type { Twins } from "../service.js";
import { FINDS_RETAINED, Fixtures, rawClient, until } from "./helpers.js";
import { storedFile } from "./stored-file.js";

const fx = new Fixtures();
const dirs: string[] = [];
afterEach(async () => {
  await fx.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The stored file as JSON, its journal replayed. */
const stored = storedFile;

/** A follows B (confirmed), C and D online, then A away; the service on a store in a new directory. */
async function aAwayFollowingB(lines: string[]): Promise<{ t: Twins; dir: string }> {
  const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
  fx.url = b.url;
  const dir = await mkdtemp(join(tmpdir(), "twins-crossed-"));
  dirs.push(dir);
  const t = await fx.twinsOn(dir, lines);
  for (const id of ["B", "C", "D"]) await fx.node(id);
  const a = await fx.node("A");
  await until(() => ["A", "B", "C", "D"].every((id) => t.get(id)?.presence === "online"), "all online");
  await t.pair("A", "B");
  await until(() => t.get("A")?.pairing === "confirmed", "A follows B");
  await a.stop();
  await until(() => t.get("A")?.presence === "offline", "A offline");
  return { t, dir };
}

describe("two pairings of an offline node written at once, the service killed in between", () => {
  it("keeps both when the service starts again from its store", async () => {
    const lines: string[] = [];
    const { t, dir } = await aAwayFollowingB(lines);
    await t.pair("A", "C"); // writes C1 2 B C
    await until(() => t.get("A")?.config?.version === 2, "the service's write seen");
    await t.flush();
    await t.kill();
    // Stored in format 3 (a journal beside it), which holds the write: a build reading format 1 would
    // drop it, and one reading format 2 the journal.
    const file = await stored(dir);
    expect(file.format).toBe(3);
    expect(file.nodes.A?.offlineWrites).toEqual([{ version: 2, sources: ["B", "C"], before: ["B"] }]);

    // Another desk's `twinfleet pair A D`, made from C1 1 B, lands while the service is down.
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "C1 2 B D", { qos: 1, retain: true });

    const again = await fx.twinsOn(dir, lines);
    await until(() => again.get("A")?.desired.configVersion === 3, "written again one version up");
    expect(again.get("A")).toMatchObject({ pairing: "pending", desired: { sources: ["B", "C", "D"] } });
    const told = lines.find((l) => l.includes("two pairings of A were written at once"));
    expect(told).toContain("another control tool's (B, D) and this service's (B, C); both are kept");
    // What A follows until it returns: the broker's copy before the new write, not the write.
    await until(() => again.get("A")?.config?.version === 3, "the new write seen");
    expect(again.get("A")?.follows).toEqual(["B", "D"]);

    const back = await fx.node("A", FINDS_RETAINED);
    await until(() => again.get("A")?.pairing === "confirmed", "A confirms");
    expect([...back.state.sources].sort()).toEqual(["B", "C", "D"]);
    // Back online, its own configs from now on: the kept writes are out of the store, format 1 again.
    await again.flush();
    expect((await stored(dir)).nodes.A?.offlineWrites).toBeUndefined();
    await again.close(); // the journal folded in: the oldest format that holds it all
    const after = await stored(dir);
    expect(after.format).toBe(1);
    expect(after.nodes.A?.offlineWrites).toBeUndefined();
  });
});

describe("the writes kept for a node away, in the store", () => {
  const A = NodeId("A");
  /** A offline following B; this service writes C1 2 B C for it. */
  function away(): TwinRegistry {
    const r = new TwinRegistry(Prefix("tf"));
    r.receive("tf/config/A", "C1 1 B", 0, 0, true);
    r.receive("tf/status/A", "T1 0", 0, 0, true);
    r.setDesiredSources(A, [NodeId("B"), NodeId("C")], 2);
    return r;
  }

  it("are stored, restored, and the node heard online says the store must forget them", () => {
    const r = away();
    const rec = r.snapshot().nodes.A;
    expect(rec?.offlineWrites).toEqual([{ version: 2, sources: ["B", "C"], before: ["B"] }]);
    const again = new TwinRegistry(Prefix("tf"));
    again.restore(r.snapshot());
    expect(again.snapshot().nodes.A?.offlineWrites).toEqual(rec?.offlineWrites);
    // Its status: the effect asks for a save, and the save holds none.
    expect(again.receive("tf/status/A", "T1 1", 0, 1)).toContainEqual({
      type: "online",
      node: A,
      dropped: true,
    });
    expect(again.snapshot().nodes.A?.offlineWrites).toBeUndefined();
  });

  it("are forgotten as well when the node's register is the first word of it", () => {
    const r = away();
    expect(r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1)).toContainEqual({
      type: "online",
      node: A,
      dropped: true,
    });
    expect(r.snapshot().nodes.A?.offlineWrites).toBeUndefined();
  });
});
