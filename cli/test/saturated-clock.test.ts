/**
 * A report with the maximum counter from outside the fleet (a hostile or broken client on the LAN,
 * with the node's own origin, so not spoofed): the nodes that take it can no longer win with their
 * own presses (protocol §4). The run's twins service shows it but keeps it out of its set commands,
 * so a set elsewhere does not carry it to other nodes; the summary and `--assert` say why the
 * regressions came.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { expect, it } from "vitest";
import { openBrokerHost } from "../../fleet/broker-host.js";
import { requirementFailures } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { RealScheduler } from "../../node/scheduler.js";
import { MAX_COUNTER, NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";
import { when } from "./run-when.js";

it("a report at the maximum counter from outside the fleet: the twins keep it out of sets, the summary tells", async () => {
  const broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  try {
    const run = await FleetRun.start({
      broker: broker.url,
      nodes: 8,
      topology: "ring",
      groupSize: 4,
      ratePerNodePerMin: 0,
      durationS: 30,
      settleS: 1,
      workers: 1,
      profile: "ideal",
    });
    await when(run, () => run.phase === "press");
    run.press(NodeId("n-0000"));
    await when(run, () => run.collector.checker.counts().deliveries === 3);
    const before = run.twins.get("n-0000")?.reported?.stamp.counter ?? 0;
    const hostile = await mqtt.connectAsync(broker.url, { clientId: "intruder", reconnectPeriod: 0 });
    await hostile.publishAsync("tf/report/n-0003", `R1 0 ${MAX_COUNTER} n-0003`, { qos: 1, retain: true });
    await hostile.endAsync();
    // The ring n-0000..n-0003 takes it (its nodes follow n-0003); the twins show it.
    await when(run, () => run.twins.get("n-0002")?.reported?.stamp.counter === MAX_COUNTER);
    expect(run.twins.badInput().byReason["implausible-counter"]).toBeGreaterThanOrEqual(1);
    // A set on the other ring carries the fleet's own counter, not the maximum.
    const counter = await run.twins.set("n-0005", true);
    expect(counter).toBeLessThan(before + 10);
    await when(run, () => (run.twins.get("n-0006")?.reported?.stamp.counter ?? 0) > counter);
    expect(run.twins.get("n-0006")?.reported?.stamp.counter).toBeLessThan(MAX_COUNTER);
    // A press on the saturated ring stamps (max, n-0000), older than the (max, n-0003) its node held.
    run.press(NodeId("n-0000"));
    await when(run, () => run.collector.regressions.count > 0);
    run.stop();
    const r = await run.done;
    expect(r.regressions).toBeGreaterThan(0);
    expect(summary(r)).toMatch(
      /saturated {6}1 node \(n-0000\) held a stamp at the maximum counter 4294967295, which no run's presses reach: a report from outside the fleet saturated their clocks/,
    );
    expect(requirementFailures(r).join("\n")).toMatch(
      /regressions: a node went back to an older state than it held; 1 node \(n-0000\) held a stamp at the maximum counter/,
    );
  } finally {
    await broker.close();
  }
}, 60_000);
