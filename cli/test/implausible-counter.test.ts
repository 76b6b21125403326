/**
 * Reports and a config above the counter ceiling from outside the fleet (a hostile or broken client
 * on the LAN, with the node's own origin, so not spoofed), into a run over a real broker: every node
 * drops them and the run's twins service drops them too, so no node's clock is carried towards the
 * maximum, where it would saturate and its later presses stop winning (protocol §4); a set elsewhere
 * carries the fleet's own counter, and the ring the forged report names goes on syncing.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { expect, it } from "vitest";
import { openBrokerHost } from "../../fleet/broker-host.js";
import { RealScheduler } from "../../node/scheduler.js";
import { COUNTER_CEILING, MAX_COUNTER, NodeId } from "../../protocol/index.js";
import { quietRun, when } from "./run-when.js";

it("a report and a config above the counter ceiling: nodes and twins drop them, the fleet syncs on", async () => {
  const broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  try {
    const run = await quietRun(broker.url, 8);
    run.press(NodeId("n-0000"));
    await when(run, () => run.collector.checker.counts().deliveries === 3);
    const before = run.twins.get("n-0000")?.reported?.stamp.counter ?? 0;
    const hostile = await mqtt.connectAsync(broker.url, { clientId: "intruder", reconnectPeriod: 0 });
    await hostile.publishAsync("tf/report/n-0003", `R1 0 ${MAX_COUNTER} n-0003`, { qos: 1, retain: true });
    await hostile.publishAsync("tf/config/n-0002", `C1 ${COUNTER_CEILING + 1}`, { qos: 1, retain: true });
    await hostile.endAsync();
    await when(run, () => run.twins.badInput().byReason["implausible-counter"] === 2);
    // A set on the other ring carries the fleet's own counter, not the maximum.
    const counter = await run.twins.set("n-0005", true);
    expect(counter).toBeLessThan(before + 10);
    await when(run, () => (run.twins.get("n-0006")?.reported?.stamp.counter ?? 0) > counter);
    // The ring the forged report named syncs on: a press there reaches its three followers.
    run.press(NodeId("n-0001"));
    await when(run, () => run.twins.get("n-0000")?.reported?.stamp.origin === "n-0001");
    const twins = run.twins.list();
    run.stop();
    const r = await run.done;
    expect(twins).toHaveLength(8);
    for (const t of twins) expect(t.reported?.stamp.counter ?? 0).toBeLessThan(before + 10);
    // n-0002 kept its pairing: the forged config (no sources) was dropped by the node and the twins.
    expect(twins.find((t) => t.id === "n-0002")?.follows).toEqual(["n-0001"]);
    expect(r).toMatchObject({ regressions: 0, diverged: 0, lost: 0 });
    expect(r).toMatchObject({ presses: 2, deliveries: 6 });
  } finally {
    await broker.close();
  }
}, 60_000);
