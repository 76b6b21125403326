/**
 * A run that joined a running twins service watches it with a passive one of its own. Its host cut
 * off from the broker (here a proxy closing every link through it), the nodes came back before the
 * run's watch did: they registered unheard, and the report said the broker outage "recovered after
 * never, re-registered max never" — measured on a real partition (nftables dropping a sim's traffic
 * for 45 s), though the standalone service showed every node back within 1.5 s. The watch now
 * queries when its link comes back, and hears them register.
 */
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { startTwins } from "../../twins/index.js";
import { cuttableProxy } from "../../twins/test/cuttable-proxy.js";
import { FleetRun } from "../run.js";
import { until } from "./run-until.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

it("counts the nodes back from an outage when they registered before the run's watch was back", async () => {
  const logger = pino({ level: "silent" });
  const broker = await startBroker({ host: "127.0.0.1", port: 0, logger });
  cleanup.push(() => broker.close());
  const controller = await startTwins({ url: broker.url, logger });
  cleanup.push(() => controller.close());
  const proxy = await cuttableProxy(broker.port);
  cleanup.push(() => proxy.close());

  const run = await FleetRun.start({
    broker: proxy.url,
    nodes: 4,
    groupSize: 4,
    profile: "ideal",
    ratePerNodePerMin: 0,
    durationS: 60,
    settleS: 1,
    workers: 1,
  });
  await new Promise<void>((resolve) => {
    if (run.phase === "press") resolve();
    else run.on("phase", (p) => p === "press" && resolve());
  });
  const cutAt = run.sched.now();
  proxy.cut();
  const { synced } = run.collector;
  await until(run, "the nodes see the cut", () => run.ids.every((id) => !synced.has(id)));
  proxy.heal("others");
  // Every node synced again, and so registered, while the run's watch was still cut off.
  await until(run, "the nodes are back", () => run.ids.every((id) => synced.has(id)));
  await until(run, "the controller has them back", () =>
    run.ids.every((id) => controller.get(id)?.presence === "online"),
  );
  proxy.heal("twins");
  const regs = run.collector.timeline.registrations;
  const heard = () => run.ids.every((id) => (regs.get(id) ?? []).some((t) => t > cutAt));
  // Bounded, so that a run that never hears them ends and its report says so.
  await until(run, "the run hears them register", heard, 10_000).catch(() => {});
  run.stop();
  const report = await run.done;
  expect(report.brokerOutages).toHaveLength(1);
  expect(report.brokerOutages?.[0]).toMatchObject({ back: true, disconnected: 4, lostForGood: 0 });
  expect(report.brokerOutages?.[0]?.reregisteredMaxMs).not.toBeNull();
  expect(report.brokerOutages?.[0]?.recoveryMs).not.toBeNull();
}, 90_000);
