/**
 * A broker that dies for good under a `sim --broker` run (someone else's: the run cannot restart it),
 * killed as under kill -9: the progress line says so while it lasts, and the report, the summary and
 * `--assert`'s failures say what it cost.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { openBrokerHost } from "../../fleet/broker-host.js";
import { requirementFailures } from "../../fleet/report.js";
import { atText } from "../../fleet/when-text.js";
import { RealScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { SimSource } from "../../view/sim-source.js";
import { progressLine, summary } from "../sim-summary.js";
import { quietRun, when } from "./run-when.js";

it("a broker that dies for good: the progress line, the report and the summary say so", async () => {
  const broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  try {
    const run = await quietRun(broker.url, 4);
    const source = new SimSource(run); // what the run's web page reads (cli/http.ts)
    expect(source.health()).toBeUndefined();
    run.press(NodeId("n-0000"));
    await when(run, () => run.collector.checker.counts().deliveries === 3);
    await broker.kill();
    await when(run, () => run.progress().brokerLostS !== undefined);
    // Pressed once every node has heard its connection close (before, a node may still publish it
    // into its dead socket): held, as the node has no session to publish it on.
    await when(run, () => run.collector.online.size === 0);
    run.press(NodeId("n-0001"));
    await when(run, () => run.progress().held === 1);
    const line = progressLine(run.progress(), run.sched.now());
    // The run's web page answers /healthz with why what it shows is not current.
    const health = source.health();
    source.close();
    run.stop();
    const r = await run.done;
    expect(line).toMatch(/online 0\/4 {2}presses 1 \(\+1 held offline\) .*BROKER LOST \d+ s/);
    expect(health).toMatch(/^the broker connection has been lost for \d+ s/);
    expect(r.brokerOutages).toHaveLength(1);
    // The press held when the run ended reached none of its three followers.
    expect(r.brokerOutages?.[0]).toMatchObject({ back: false, nodes: 4, disconnected: 4, lostForGood: 3 });
    expect(r.brokerOutages?.[0]?.pressesDuring).toBe(1);
    expect(r.requirements.nothingLost).toBe(false);
    expect(requirementFailures(r)).toContain(
      "3 (press, follower) deliveries lost for good (never reflected; 3 of them while the broker was lost)",
    );
    // A sync figure over the limit is told with the outage that is in it.
    const slow = { ...r, requirements: { ...r.requirements, syncP99Under1s: false } };
    expect(requirementFailures(slow)[0]).toMatch(
      /^sync p99 \d+\.\d ms is not under 1 s; the broker was lost once, \d+\.\d s in all$/,
    );
    // Each node heard of it from the broker's side (the FIN of its killed process), not its keepalive.
    expect(r.link).toMatchObject({ disconnects: 4, closedByBroker: 4, keepaliveTimeouts: 0 });
    expect(summary(r)).toContain("4 sessions lost (0 by keepalive, 4 closed by the broker), 0 reconnects");
    expect(summary(r)).toMatch(
      /broker lost {4}(?:at \d+\.\d s|in the boot, \d+\.\d s before the presses' start) for \d+\.\d s, not back by the end: 4 nodes disconnected, 1 presses during, 0 pairs later than 5 s, 3 lost for good/,
    );
    // A joined twins service asked at the end, with the broker gone: the questions never reached it.
    const held = { clientId: "ctl", asked: 4, answered: 0, notHeld: 0, notHeldIds: [] };
    const joined = { ...r, joinedTwins: { clientId: "ctl", left: [], held } };
    const lostAt = atText(r.brokerOutages?.[0]?.atMs ?? 0);
    expect(summary(joined)).toContain(
      `twins hold     unknown: the twins service ctl did not answer which of the fleet's nodes it holds (the broker was lost ${lostAt} and not back by the end: the questions could not reach it)`,
    );
  } finally {
    await broker.close();
  }
}, 60_000);
