// A sweep on virtual time: every fleet point is a virtual fleet run, so the same scenarios give the
// same points to the bit; fault cases that need real time are refused before the first point.
import { describe, expect, it } from "vitest";
import { adjustScenario, loadScenario, ScenarioError } from "../scenario.js";
import { runSweep } from "../sweep.js";

describe("a sweep on virtual time", () => {
  it("gives the same points for the same scenarios", async () => {
    const scenarios = [adjustScenario(loadScenario("paper"), { quick: true })];
    const a = await runSweep(scenarios, { quick: true, clock: "virtual" });
    const b = await runSweep(scenarios, { quick: true, clock: "virtual" });
    expect(JSON.stringify(b.scenarios)).toBe(JSON.stringify(a.scenarios));
    const loss = a.scenarios[0]?.loss ?? [];
    expect(loss.map((p) => p.lossPct)).toEqual([0, 15, 25]);
    // Loss shows in the tail: the 25 % point waits for retransmissions the 0 % one never needs.
    expect(loss[2]?.sync.p99).toBeGreaterThan(10 * (loss[0]?.sync.p99 ?? 0));
    expect(loss.every((p) => p.registration.registered === p.registration.nodes)).toBe(true);
  });

  it("plans its length as virtual time runs it, not as wall time would", async () => {
    // The full paper,settings sweep on virtual time takes about 2 s here; it was announced as
    // "about 6 min 46 s", the wall-clock sweep's estimate.
    const scenarios = [loadScenario("paper"), loadScenario("settings")];
    let virtualEta = Number.NaN;
    let realEta = Number.NaN;
    const stop = new AbortController();
    stop.abort();
    await runSweep(scenarios, {
      quick: false,
      clock: "virtual",
      signal: stop.signal,
      onStart: (p) => {
        virtualEta = p.etaS;
      },
    });
    await runSweep(scenarios, {
      quick: false,
      signal: stop.signal,
      onStart: (p) => {
        realEta = p.etaS;
      },
    });
    expect(virtualEta).toBeGreaterThan(1);
    expect(virtualEta).toBeLessThan(15);
    expect(realEta).toBeGreaterThan(300);
  });

  it("refuses a fault case that needs real time, naming it", async () => {
    const faults = adjustScenario(loadScenario("faults"), { quick: true });
    await expect(runSweep([faults], { quick: true, clock: "virtual" })).rejects.toThrow(ScenarioError);
    await expect(runSweep([faults], { quick: true, clock: "virtual" })).rejects.toThrow(
      /scenario faults, fault case .*: .* \(run it with --clock real\)/,
    );
  });
});
