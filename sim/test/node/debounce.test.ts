/**
 * The sketch's button debounce (onButton: a press within TF_DEBOUNCE_MS of the last press it took is
 * ignored), modeled from the profile's sketch.debounceMs: a burst of presses 20 ms apart is taken at
 * 0, 60 and 120 ms on a board, every press on a profile without debounce. Nor is a press taken
 * before setup() attaches the interrupt, after Ethernet.begin's reset wait.
 */
import { describe, expect, it } from "vitest";
import { loadProfile, parseProfile } from "../../../node/profile.js";
import { rig, UNO } from "./helpers.js";

const IDEAL = loadProfile("ideal");
const BURST = { kind: "burst", at: 5000, count: 9, intervalMs: 20 } as const;

describe("button debounce", () => {
  it("a burst 20 ms apart: the Uno takes a press every 60 ms, from the last press it took", () => {
    expect(UNO.sketch.debounceMs).toBe(50);
    const r = rig();
    const n = r.node("A");
    n.start();
    n.addPresses(BURST);
    r.sched.runUntil(8000);
    // From the last edge instead, only the first would be taken (every gap is 20 ms).
    expect(r.of("press").map((p) => p.at)).toEqual([5000, 5060, 5120]);
    expect(r.of("press-ignored").map((p) => p.at)).toEqual([5020, 5040, 5080, 5100, 5140, 5160]);
    expect(r.broker.retained.get("tf/report/A")).toBe("R1 1 3 A");
  });

  it("a profile without debounce takes every press", () => {
    expect(IDEAL.sketch.debounceMs).toBe(0);
    const r = rig();
    const n = r.node("A", { profile: IDEAL });
    n.start();
    n.addPresses(BURST);
    r.sched.runUntil(8000);
    expect(r.of("press")).toHaveLength(9);
    expect(r.of("press-ignored")).toEqual([]);
    expect(r.broker.retained.get("tf/report/A")).toBe("R1 1 9 A");
  });

  it("compares whole millis() from power-on, and forgets the last press with the power", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000.5);
    // millis() 5000 and 5050: 50 ms apart on the board's clock, 49.2 ms in fact; then 5099 (49 ms).
    n.addPresses({ kind: "script", times: [5000.9, 5050.1, 5099.9] });
    r.sched.runUntil(6000);
    expect(r.of("press").map((p) => p.at)).toEqual([5000.9, 5050.1]);
    expect(r.of("press-ignored").map((p) => p.at)).toEqual([5099.9]);
    // A power cycle resets millis() and the time of the last press: the first press after boot is taken.
    n.powerCycle(100);
    r.sched.runUntil(7000);
    n.addPresses({ kind: "script", times: [7010] });
    r.sched.runUntil(8000);
    expect(r.of("press").map((p) => p.at)).toEqual([5000.9, 5050.1, 7010]);
  });

  it("takes no press before setup() attaches the interrupt, after the shield's reset wait", () => {
    expect(UNO.w5100.resetWaitMs).toBe(560);
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(6000);
    // Power back at 6100: the button is not heard until 6660, when setup() ends.
    n.powerCycle(100);
    n.addPresses({ kind: "script", times: [6200, 6659, 6661] });
    r.sched.runUntil(9000);
    expect(r.of("press-ignored").map((p) => p.at)).toEqual([6200, 6659]);
    expect(r.of("press").map((p) => p.at)).toEqual([6661]);
    // A profile without the shield's reset wait hears it at once.
    const i = rig();
    const m = i.node("A", { profile: IDEAL });
    m.start();
    i.sched.runUntil(6000);
    m.powerCycle(100);
    m.addPresses({ kind: "script", times: [6101] });
    i.sched.runUntil(9000);
    expect(i.of("press").map((p) => p.at)).toEqual([6101]);
  });

  it("the profile schema names sketch.debounceMs when it is missing or not whole ms", () => {
    const { debounceMs: _, ...without } = UNO.cited.sketch;
    expect(() => parseProfile({ ...UNO.cited, sketch: without }, "p.json")).toThrow(
      "sketch.debounceMs: missing: the button debounce in ms, a figure (50: the sketch's TF_DEBOUNCE_MS; 0: none)",
    );
    const half = { ...UNO.cited.sketch.debounceMs, value: 2.5 };
    expect(() =>
      parseProfile({ ...UNO.cited, sketch: { ...UNO.cited.sketch, debounceMs: half } }, "p.json"),
    ).toThrow("sketch.debounceMs.value: must be a whole number of ms (the sketch compares millis())");
  });
});
