/**
 * A press made while its node has no session is held in the node's RAM until it syncs again; a power
 * cut before then takes it. Over real sockets, with the broker killed as under kill -9: the report,
 * `--assert`'s failures and the summary say that the presses lost for good went with the power, and
 * a press still held when the run ends is lost for good without being put down to the power.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { openBrokerHost } from "../../fleet/broker-host.js";
import { requirementFailures } from "../../fleet/report.js";
import { RealScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";
import { quietRun, when } from "./run-when.js";

it("presses held by nodes without a session and lost with their power are told apart", async () => {
  const broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  try {
    const run = await quietRun(broker.url, 4);
    // Every node synced and delivering before the broker dies, as in broker-lost.test.ts.
    run.press(NodeId("n-0000"));
    await when(run, () => run.collector.checker.counts().deliveries === 3);
    await broker.kill();
    await when(run, () => run.collector.online.size === 0);
    run.press(NodeId("n-0001")); // held: no session to publish it on
    run.press(NodeId("n-0002")); // held too, and still held when the run ends
    run.powerCycle(NodeId("n-0001"), 100); // its RAM, and its press, are gone
    // The checker learns of n-0001's press (its second, after n-0000's) when n-0001 boots again
    // without it; n-0002's press came before that boot from the same thread, so the collector
    // holds it by then.
    await when(run, () => run.collector.checker.counts().presses === 2);
    run.stop();
    const r = await run.done;
    // Three followers each: n-0001's three pairs went with the power, n-0002's were still held.
    expect(r.lostForGood).toBe(6);
    expect(r.lostWithPower).toBe(3);
    expect(requirementFailures(r)).toContain(
      "6 (press, follower) deliveries lost for good (never reflected; 6 of them while the broker was lost; 3 of them presses held in RAM by nodes not synced (offline or syncing) and lost with their power before they synced again)",
    );
    expect(summary(r)).toMatch(/lost for good, 3 of them held by nodes not synced when their power went\)/);
  } finally {
    await broker.close();
  }
}, 60_000);
