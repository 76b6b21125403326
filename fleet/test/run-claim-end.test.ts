/**
 * A one-process run's claim cleared by someone else while its nodes stop at its end (a tool clearing
 * retained messages, another run's --fresh): the claim's watch claims the ids again and says so, but
 * the report was built before, and said nothing of it. The report's `claim` is now read once the
 * run's own clear of its claim is done (fleet/run-end.ts), as a shard's (shard-claim-end.test.ts).
 */
import { pino } from "pino";
import { it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { FleetRun } from "../run.js";
import { brokerAndTool } from "./broker-and-tool.js";
import { clearAsNodesStop, expectClearKept, until } from "./claim-at-end.js";
import { idleShard } from "./idle-shard.js";

const rig = brokerAndTool();

it("keeps in its report a claim cleared by someone else while its nodes stop, not its own clear", async () => {
  const { broker, tool } = rig;
  const lines: string[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => lines.push(JSON.parse(s).msg) });
  const clearing = await clearAsNodesStop(tool, lines);
  const run = await FleetRun.start(idleShard(broker.url, 15), logger, new RealScheduler(), {
    ending: clearing.ending,
  });
  await until(() => run.registeredAt.size === run.ids.length, "the nodes registered");
  run.stop();
  const report = await run.done;
  expectClearKept(lines, report.claim, clearing.topic());
}, 60_000);
