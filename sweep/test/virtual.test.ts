// A sweep on virtual time: every fleet point is a virtual fleet run, so the same scenarios give the
// same points to the bit; fault cases that need real time are refused before the first point.
import { describe, expect, it } from "vitest";
import { renderHtml } from "../html.js";
import { VIRTUAL_WARM_UP_S } from "../point.js";
import type { SweepPlan } from "../resume.js";
import { adjustScenario, loadScenario, ScenarioError } from "../scenario.js";
import { remainingS, runSweep } from "../sweep.js";

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

    // The page says which clock its figures are on; its health table gives each point's length in
    // virtual seconds as such, where it used to head them "wall" (29.7 s for a point of 1 s).
    const page = renderHtml(a);
    expect(page).toContain(" · virtual time · scenarios paper");
    expect(page).toContain("On virtual time (<code>--clock virtual</code>): every fleet point ran in memory");
    expect(page).toContain("<th>virtual time</th>");
    expect(page).not.toContain("<th>wall</th>");
    expect(page).not.toContain("Every fleet point kept up");
    const onWall = renderHtml({ ...a, plan: { ...(a.plan as SweepPlan), clock: "real" } });
    expect(onWall).toContain("<th>wall</th>");
    expect(onWall).not.toContain("virtual time");
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

  it("counts the process's warm-up once, in the plan and the first point, not in every point's pace", async () => {
    // The full paper,settings sweep: 16 fleet points of about 0.26 s each on a warm process, and a
    // first point of about 1.1 s. Scaling the 15 others by that first point's 4× said "ETA 34 s"
    // of a sweep that ended 11 s later.
    const first = { wallS: 0.26 + VIRTUAL_WARM_UP_S, estimateS: 0.26 };
    const rest = Array.from({ length: 15 }, () => ({ fleet: true, estimateS: 0.26 }));
    expect(remainingS(first, rest, VIRTUAL_WARM_UP_S)).toBeCloseTo(15 * 0.26, 5);
    // A host twice as slow still shows in the ETA.
    const slow = { wallS: 2 * (0.26 + VIRTUAL_WARM_UP_S), estimateS: 0.26 };
    expect(remainingS(slow, rest, VIRTUAL_WARM_UP_S)).toBeCloseTo(2 * 15 * 0.26, 5);
    // Before any fleet point (a CPU table first), the warm-up is still to come.
    expect(remainingS({ wallS: 0, estimateS: 0 }, rest, VIRTUAL_WARM_UP_S)).toBeCloseTo(
      VIRTUAL_WARM_UP_S + 15 * 0.26,
      5,
    );
    // The plan of a tiny sweep (the quick settings scenario's 2 points) is the warm-up and its points,
    // where it said "about 0 s" of a sweep that took 1 s.
    const stop = new AbortController();
    stop.abort();
    let plan = Number.NaN;
    await runSweep([adjustScenario(loadScenario("settings"), { quick: true })], {
      quick: true,
      clock: "virtual",
      signal: stop.signal,
      onStart: (p) => {
        plan = p.etaS;
      },
    });
    expect(plan).toBeGreaterThan(VIRTUAL_WARM_UP_S);
    expect(plan).toBeLessThan(VIRTUAL_WARM_UP_S + 1);
  });

  it("refuses a fault case that needs real time, naming it", async () => {
    const faults = adjustScenario(loadScenario("faults"), { quick: true });
    await expect(runSweep([faults], { quick: true, clock: "virtual" })).rejects.toThrow(ScenarioError);
    await expect(runSweep([faults], { quick: true, clock: "virtual" })).rejects.toThrow(
      /scenario faults, fault case .*: .* \(run it with --clock real\)/,
    );
  });
});
