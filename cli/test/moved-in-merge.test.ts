/**
 * `report show` of a merged report whose shards saw the nodes' broker name move
 * (fleet/shard-moved.ts): each move on its line, naming the shard that saw it. Before, the merged
 * report carried no move at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { mergeShards } from "../../fleet/shard-merge.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { runMain } from "./run-main.js";

const dir = mkdtempSync(join(tmpdir(), "tf-moved-in-merge-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const moved = (nodesAt: string, atMs: number, to: string) => ({
  host: "tf-broker",
  nodesAt: [nodesAt],
  moves: [{ atMs, names: [to] }],
});

it("report show of the merged report says which shard saw the name move", async () => {
  const [s1, s2] = fleetOfTwo();
  const file = join(dir, "fleet.json");
  const shards = [s1, { ...s2, brokerMoved: moved("127.0.0.2:1883", 9_000, "127.0.0.3:1883") }];
  writeFileSync(file, JSON.stringify(mergeShards(["a", "b"], shards)));
  const { code, out } = await runMain("report", "show", file);
  expect(code).toBe(0);
  expect(out).toContain(
    "       broker moved   shard 2: tf-broker named 127.0.0.3:1883 at 9.0 s; its nodes connect to 127.0.0.2:1883 (what it named at the start), as boards given the address: they did not follow",
  );
});
