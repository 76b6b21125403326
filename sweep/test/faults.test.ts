// The faults part of a sweep scenario: its errors naming the field and the quick form's scaled times.
// A sweep that runs fault cases is tested with the command's own output in cli/test/sweep-faults.test.ts.
import { describe, expect, it } from "vitest";
import { adjustScenario, loadScenario, parseScenario } from "../scenario.js";

const fleet = {
  nodes: 4,
  seconds: 2,
  topology: "pairs",
  groupSize: 2,
  ratePerNodePerMin: 120,
  profile: "ideal",
  seed: "faults-test",
  settleS: 0.5,
};

function errorOf(json: unknown): string {
  try {
    parseScenario(json, "x.json");
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
}

describe("the faults part of a scenario", () => {
  const bad = (faults: unknown) => errorOf({ name: "t", fleet, faults });

  it("errors name the case and the field", () => {
    expect(bad({ cases: [{ name: "a", schedule: "meteor@1" }] })).toMatch(
      /faults\.cases\.0\.schedule: "meteor@1" is not a preset; presets: broker-restart, /,
    );
    expect(bad({ cases: [{ name: "a", schedule: [{ kind: "broker-restart", atS: 1, downS: 0 }] }] })).toMatch(
      /faults\.cases\.0\.schedule: \[0\]\.downS must be above 0/,
    );
    expect(bad({ cases: [{ name: "a", schedule: "broker-restart@2" }] })).toMatch(
      /faults\.cases\.0\.schedule: \[0\] \(broker-restart\) starts at 2 s, when the presses have ended \(fleet\.seconds is 2\)/,
    );
    expect(
      bad({
        cases: [{ name: "a", schedule: [{ kind: "partition", atS: 1, forS: 1, nodes: ["n-0009"] }] }],
      }),
    ).toMatch(/faults\.cases\.0\.schedule: \[0\]\.nodes: n-0009 not in this fleet/);
    expect(bad({ cases: [{ name: "a", schedule: 5 }] })).toMatch(
      /faults\.cases\.0\.schedule: must be presets like "broker-restart@5" or a list of fault entries/,
    );
    expect(bad({ cases: [{ name: "a", schedule: "twins-restart@1", brokerData: true }] })).toMatch(
      /faults\.cases\.0\.brokerData: keeps the broker's store across a broker-restart/,
    );
    const twice = { name: "a", schedule: "twins-restart@1" };
    expect(bad({ cases: [twice, twice] })).toMatch(/faults\.cases\.1\.name: repeats a/);
    expect(bad({ cases: [] })).toMatch(/faults\.cases: Too small/);
    expect(bad({ lossPct: 95, cases: [twice] })).toMatch(/faults\.lossPct:/);
    expect(bad({ cases: [{ ...twice, extra: 1 }] })).toMatch(/faults\.cases\.0: .*extra/);
    expect(errorOf({ name: "t", fleet })).toMatch(/needs at least one of loss, cpu, settings, faults/);
  });

  it("the shipped faults scenario fits the paper's fleet, and --quick scales its times to 5 s", () => {
    const s = loadScenario("faults");
    expect(s.fleet).toMatchObject({ nodes: 80, topology: "pairs", profile: "uno-w5100" });
    expect(s.faults?.cases).toHaveLength(6);
    const q = adjustScenario(s, { quick: true });
    expect(q.fleet).toMatchObject({ nodes: 20, seconds: 5 });
    expect(q.faults?.cases.map((c) => c.name)).toEqual(s.faults?.cases.map((c) => c.name));
    for (const c of q.faults?.cases ?? []) {
      expect(Array.isArray(c.schedule)).toBe(true);
      for (const e of c.schedule as { atS: number }[]) expect(e.atS).toBeLessThan(5);
    }
  });
});
