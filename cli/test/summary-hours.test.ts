/**
 * The summary's times past an hour carry hours and minutes after their seconds (a day's run read
 * `at 82800.0 s`, `86415 s virtual`); the seconds stay first, as scripts read them, and the report
 * keeps seconds only.
 */
import { expect, it } from "vitest";
import { runFleet } from "../../fleet/run.js";
import { summary } from "../sim-summary.js";

it("says the hours of a fault, an outage and the run's length past an hour", async () => {
  const r = await runFleet({
    clock: "virtual",
    nodes: 6,
    durationS: 20,
    settleS: 3,
    seed: "hours",
    faults: [
      { kind: "power-outage", atS: 5, offS: 2, nodes: "all" },
      { kind: "broker-restart", atS: 10, downS: 3 },
    ],
  });
  const short = summary(r);
  expect(short).toMatch(/fault {10}power-outage at \d+\.\d s for 2\.0 s:/);
  expect(short).not.toMatch(/ h \d+ min\)/);
  // The same figures a day later (23 h in), as a day's run shows them.
  const dayMs = 82_800_000;
  const late = {
    ...r,
    faults: r.faults.map((f) => ({ ...f, atMs: f.atMs + dayMs })),
    brokerOutages: r.brokerOutages?.map((o) => ({ ...o, atMs: o.atMs + dayMs })),
    sim: { ...r.sim, wallS: r.sim.wallS + dayMs / 1000 },
  };
  const text = summary(late);
  expect(text).toMatch(/fault {10}power-outage at 828\d\d\.\d s \(23 h 0 min\) for 2\.0 s:/);
  expect(text).toMatch(/broker lost {4}at 828\d\d\.\d s \(23 h 0 min\) for \d\.\d s:/);
  expect(text).toMatch(/ 828\d\d s virtual \(23 h 0 min\)/);
});
