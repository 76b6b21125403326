/**
 * A broker outside the run that came back without the retained messages it held (an in-memory
 * broker killed and started again on the same port; Mosquitto killed before its autosave): the run's
 * twins service puts the nodes' reports back and said so in its log only; the report and the
 * summary said nothing. The outage now carries `retainedLost`, and the summary a line.
 */
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FleetRun } from "../../fleet/run.js";
import { until } from "../../fleet/test/run-until.js";
import { summary } from "../sim-summary.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

it("reports the nodes whose reports a broker restarted empty no longer held, put back by the run's twins", async () => {
  const logger = pino({ level: "silent" });
  const first = await startBroker({ host: "127.0.0.1", port: 0, logger });
  let broker = first;
  cleanup.push(() => broker.close());
  const run = await FleetRun.start({
    broker: first.url,
    nodes: 4,
    groupSize: 4,
    // The sketch's reconnect: at once after the loss (the broker still down), then 5 s later, well
    // after the twins service (1 s) is back and has looked at what the broker replayed.
    profile: "uno-w5100",
    ratePerNodePerMin: 0,
    durationS: 60,
    settleS: 1,
    workers: 1,
  });
  cleanup.push(() => run.done.catch(() => {}));
  await new Promise<void>((resolve) => {
    if (run.phase === "press") resolve();
    else run.on("phase", (p) => p === "press" && resolve());
  });
  // Every twin holds a report (the nodes' power-on reports), and so did the broker.
  await until(run, "the twins hold every report", () =>
    run.ids.every((id) => run.twins.get(id)?.reported !== undefined),
  );
  await first.kill();
  await until(run, "the run sees the broker lost", () => run.progress().brokerLostS !== undefined);
  // Down long enough for the nodes' first attempt after the loss to fail.
  const downUntil = run.sched.now() + 1500;
  await until(run, "the broker has been down 1.5 s", () => run.sched.now() >= downUntil);
  broker = await startBroker({ host: "127.0.0.1", port: first.port, logger });
  await until(run, "the run sees the broker back", () => run.progress().brokerLostS === undefined);
  const { synced } = run.collector;
  await until(run, "the nodes are back", () => run.ids.every((id) => synced.has(id)));
  // The service's look at what the broker replayed ends 500 ms after the replay: well over by then.
  const quietUntil = run.sched.now() + 3000;
  await until(run, "the service has looked", () => run.sched.now() >= quietUntil);
  run.stop();
  const r = await run.done;
  expect(r.brokerOutages).toHaveLength(1);
  const lost = r.brokerOutages?.[0]?.retainedLost ?? 0;
  expect(lost).toBeGreaterThan(0);
  expect(lost).toBeLessThanOrEqual(4);
  const nodes = lost === 1 ? "1 node's report" : `${lost} nodes' reports`;
  expect(summary(r)).toMatch(new RegExp(`retained lost {2}${nodes} gone from the broker when it came back`));
}, 90_000);
