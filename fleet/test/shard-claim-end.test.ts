/**
 * A shard's claim cleared by someone else while its nodes stop at its end (a tool clearing retained
 * messages, another run's --fresh): the claim's watch claims the ids again and says so, but the shard
 * report was built before, and said nothing of it. The report's `claim` is now read once the shard's
 * own clear of its claim is done; that clear is its own and no loss.
 */
import { it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { ShardRun } from "../shard-run.js";
import { brokerAndTool } from "./broker-and-tool.js";
import { clearAsNodesStop, expectClearKept } from "./claim-at-end.js";
import { idleShard } from "./idle-shard.js";

const rig = brokerAndTool();

it("keeps in its report a claim cleared by someone else while its nodes stop, not its own clear", async () => {
  const { broker, tool } = rig;
  const notes: string[] = [];
  const clearing = await clearAsNodesStop(tool, notes);
  const { run, done } = ShardRun.run(idleShard(broker.url, 15), { index: 1, count: 2 }, new RealScheduler(), {
    note: (l) => {
      notes.push(l);
      if (l.includes("registered")) run.stop();
    },
    ending: clearing.ending,
  });
  const report = await done;
  expectClearKept(notes, report.claim, clearing.topic());
}, 60_000);
