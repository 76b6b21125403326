/**
 * A one-process run's claim cleared by someone else while its nodes stop at its end (a tool clearing
 * retained messages, another run's --fresh): the claim's watch claims the ids again and says so, but
 * the report was built before, and said nothing of it. The report's `claim` is now read once the
 * run's own clear of its claim is done (fleet/run-end.ts), as a shard's (shard-claim-end.test.ts).
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { FleetRun } from "../run.js";
import { brokerAndTool } from "./broker-and-tool.js";
import { idleShard } from "./idle-shard.js";

const rig = brokerAndTool();

/** Resolves once `done()` holds, checked every 10 ms, within 20 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`not seen within 20 s: ${what}`);
}

it("keeps in its report a claim cleared by someone else while its nodes stop, not its own clear", async () => {
  const { broker, tool } = rig;
  let topic: string | undefined;
  tool.on("message", (t, payload) => {
    if (payload.length > 0) topic ??= t;
  });
  await tool.subscribeAsync("tf/claim/+", { qos: 1 });
  const lines: string[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => lines.push(JSON.parse(s).msg) });
  const run = await FleetRun.start(idleShard(broker.url, 15), logger, new RealScheduler(), {
    ending: async (what) => {
      if (what !== "stopping its nodes" || topic === undefined) return;
      await tool.publishAsync(topic, "", { qos: 1, retain: true });
      await until(() => lines.some((l) => l.includes("is held again")), "the claim held again");
    },
  });
  await until(() => run.registeredAt.size === run.ids.length, "the nodes registered");
  run.stop();
  const report = await run.done;
  expect(lines.filter((l) => l.includes("was cleared on the broker"))).toHaveLength(1);
  // Before: no claim section, though the claim had been cleared and claimed again.
  expect(report.claim?.topic).toBe(topic);
  expect(report.claim?.losses).toEqual([
    { atMs: expect.any(Number), why: "cleared", heldAgainAfterMs: expect.any(Number) },
  ]);
}, 60_000);
