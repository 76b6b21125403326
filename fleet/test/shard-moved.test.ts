/**
 * The nodes' broker name that moved mid-run, in a shard's report and the merged report
 * (fleet/shard-moved.ts): a shard warned of the move in its log, but its shard report and
 * `report merge`'s fleet report carried no `brokerMoved`, so a site running shards on several hosts
 * saw nothing of it in the merged report. The shard's lookup is injected, the broker on port 0.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import type { BrokerMovedReport } from "../broker-address.js";
import { mergeShards } from "../shard-merge.js";
import {
  checkShardFile,
  readShardFile,
  type ShardFile,
  ShardFileError,
  writeShardFile,
} from "../shard-report.js";
import { ShardRun } from "../shard-run.js";
import { brokerAndTool } from "./broker-and-tool.js";
import { idleShard } from "./idle-shard.js";
import { fleetOfTwo } from "./ring-of-four.js";

const dir = mkdtempSync(join(tmpdir(), "tf-shard-moved-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rig = brokerAndTool();

const moved = (nodesAt: string, ...moves: [number, string][]): BrokerMovedReport => ({
  host: "tf-broker",
  nodesAt: [nodesAt],
  moves: moves.map(([atMs, to]) => ({ atMs, names: [to] })),
});

it("keeps the move a shard saw in its shard report", async () => {
  const { broker } = rig;
  const { port } = new URL(broker.url);
  // The name (localhost: the shard's own client connects through the system's resolver) names the
  // broker's address at the start, another from the second lookup on: the old broker stays up.
  let calls = 0;
  const lookup = async () => (++calls === 1 ? ["127.0.0.1"] : ["127.0.0.3"]);
  const notes: string[] = [];
  const url = `mqtt://localhost:${port}`;
  const { run, done } = ShardRun.run(idleShard(url, 15), { index: 2, count: 2 }, new RealScheduler(), {
    lookup,
    nameCheckMs: 200,
    note: (l) => {
      notes.push(l);
      if (l.includes("now names")) run.stop();
    },
  });
  const report = await done;
  expect(notes.filter((l) => l.includes("now names"))).toEqual([
    `the broker's name localhost now names 127.0.0.3:${port}, but the nodes still connect to 127.0.0.1:${port}, what it named when the run started, as boards given the broker's address do: they will not reach a broker moved there (start the run again to move them)`,
  ]);
  const file = join(dir, "shard-2.json");
  writeShardFile(file, report);
  const back = readShardFile(file).brokerMoved;
  expect(back).toEqual({
    host: "localhost",
    nodesAt: [`127.0.0.1:${port}`],
    moves: [{ atMs: expect.any(Number), names: [`127.0.0.3:${port}`] }],
  });
}, 60_000);

it("merges each shard's moves by shard, on the fleet's clock; older shard reports have none", () => {
  const [s1, s2] = fleetOfTwo();
  // Shard 2's clock reads 1 s ahead of shard 1's, its presses 1 s before shard 1's on the fleet's:
  // shard 1's times are moved by that second. Shard 2 started after the move: its nodes are elsewhere.
  const merged = mergeShards(
    ["a", "b"],
    [
      { ...s1, brokerMoved: moved("127.0.0.2:1883", [4_000, "127.0.0.3:1883"]) },
      { ...s2, brokerMoved: moved("127.0.0.3:1883", [9_000, "127.0.0.2:1883"]) },
    ],
  );
  expect(merged.shardBrokerMoved).toEqual([
    { shard: 1, ...moved("127.0.0.2:1883", [5_000, "127.0.0.3:1883"]) },
    { shard: 2, ...moved("127.0.0.3:1883", [9_000, "127.0.0.2:1883"]) },
  ]);
  // A shard report from before the field (fleetOfTwo's are written without it), beside one with it;
  // and none at all.
  expect("brokerMoved" in s1).toBe(false);
  expect(
    mergeShards(["a", "b"], [s1, { ...s2, brokerMoved: moved("127.0.0.2:1883", [1, "x:1"]) }])
      .shardBrokerMoved,
  ).toEqual([{ shard: 2, ...moved("127.0.0.2:1883", [1, "x:1"]) }]);
  expect(mergeShards(["a", "b"], [s1, s2]).shardBrokerMoved).toBeUndefined();
});

it("refuses a shard report whose brokerMoved is not whole, naming the field", () => {
  const [s1] = fleetOfTwo();
  const bad = (brokerMoved: unknown) => () =>
    checkShardFile("s.json", { ...s1, brokerMoved } as unknown as ShardFile);
  expect(bad({ host: "h" })).toThrow(ShardFileError);
  expect(bad({ host: "h" })).toThrow(/s\.json: brokerMoved must have host \(a string\), nodesAt/);
  expect(bad({ host: "h", nodesAt: ["a:1"], moves: [{ atMs: "1", names: [] }] })).toThrow(
    /s\.json: brokerMoved\.moves\[0\] must have atMs \(a number\) and names/,
  );
  expect(bad(moved("a:1", [1, "b:1"]))).not.toThrow();
});
