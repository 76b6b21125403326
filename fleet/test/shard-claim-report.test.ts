/**
 * A shard's claim on its ids cleared on the broker mid-run is in its shard report's `claim` (and back
 * from the file as written): before, the shard told it in a log line alone, and neither its report
 * nor the merged fleet report said the shard's ids had been unclaimed for a while.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { readShardFile, writeShardFile } from "../shard-report.js";
import { ShardRun } from "../shard-run.js";
import { brokerAndTool } from "./broker-and-tool.js";
import { idleShard } from "./idle-shard.js";

const dir = mkdtempSync(join(tmpdir(), "tf-shard-claim-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rig = brokerAndTool();

it("keeps a shard's claim cleared mid-run in its shard report", async () => {
  const { broker, tool } = rig;
  // The shard's claim, cleared once its nodes have registered (a tool clearing retained messages).
  let topic: string | undefined;
  tool.on("message", (t, payload) => {
    if (payload.length > 0) topic ??= t;
  });
  await tool.subscribeAsync("tf/claim/+", { qos: 1 });
  const notes: string[] = [];
  let cleared = false;
  const { run, done } = ShardRun.run(idleShard(broker.url, 15), { index: 1, count: 2 }, new RealScheduler(), {
    note: (l) => {
      notes.push(l);
      if (l.includes("registered") && topic !== undefined && !cleared) {
        cleared = true;
        tool.publish(topic, "", { qos: 1, retain: true });
      }
      if (l.includes("is held again")) run.stop();
    },
  });
  const report = await done;
  expect(cleared).toBe(true);
  expect(notes.some((l) => l.includes("is held again"))).toBe(true);
  const file = join(dir, "shard-1.json");
  writeShardFile(file, report);
  const back = readShardFile(file);
  expect(back.claim?.topic).toBe(topic);
  expect(back.claim?.losses).toEqual([
    expect.objectContaining({ why: "cleared", heldAgainAfterMs: expect.any(Number) }),
  ]);
}, 60_000);
