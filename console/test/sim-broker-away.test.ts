/**
 * `twinfleet sim --broker URL`'s own console while that broker is gone: its view is its run's twins
 * service's, so the convergence chart gets the same `broker away` band as the monitor's (the fleet
 * view's outages, view/live-faults.ts), on a real two-node run against a broker that is closed.
 */
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { FleetRun } from "../../fleet/run.js";
import { SimSource } from "../../view/sim-source.js";
import { renderConvergence } from "../render/charts.js";
import { ASCII } from "../render/glyphs.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const plain = (s: string) => s.replace(/\{[^}]*\}/g, "");

it("draws the broker away band while someone else's broker is gone", async () => {
  const broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0 });
  cleanup.push(() => broker.close());
  const run = await FleetRun.start({
    nodes: 2,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 0,
    durationS: 30,
    settleS: 0,
    workers: 1,
    profile: "ideal",
    broker: broker.url,
  });
  const source = new SimSource(run);
  cleanup.push(async () => {
    source.close();
    run.stop();
    await run.done;
  });
  await new Promise<void>((resolve) => run.on("phase", (p) => p === "press" && resolve()));
  expect(source.convergence().away).toEqual([]);

  const lost = new Promise<void>((resolve) => {
    const off = source.on("changed", () => {
      if (source.faults().some((f) => f.what === "broker connection lost")) {
        off();
        resolve();
      }
    });
  });
  await broker.close();
  await lost;
  const c = source.convergence();
  expect(c.away).toHaveLength(1);
  expect(c.away?.[0]?.to).toBeUndefined();
  const lines = renderConvergence(c, source.now(), 45, 6, ASCII).map(plain);
  expect(lines.at(-1)).toContain("/ broker away");
  // Under way: the band runs to now, in the chart's last column.
  for (const row of lines.slice(1, -1)) expect(row.at(-1)).toBe("/");
}, 30_000);
