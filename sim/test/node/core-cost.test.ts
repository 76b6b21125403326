/**
 * The core-step classifier: each input is charged the measured operation that matches what the core
 * did, driven through a real NodeCore so the outputs are the core's own.
 */
import { describe, expect, it } from "vitest";
import { type CoreInput, NodeCore } from "../../../node/core.js";
import { type CoreStep, classify, coreCost } from "../../../node/core-cost.js";
import { loadProfile } from "../../../node/profile.js";
import { NodeId, Prefix } from "../../../protocol/index.js";
import { UNO } from "./helpers.js";

const GRACE = 1500;

function core(): NodeCore {
  return new NodeCore({
    id: NodeId("lamp-1"),
    prefix: Prefix("tf"),
    kind: "sim",
    profile: "uno-w5100",
    firmware: "test",
    syncGraceMs: GRACE,
  });
}

/** Feeds `input` at `now` as the board does and returns the step it priced. */
function step(c: NodeCore, input: CoreInput, now: number): CoreStep {
  const phaseBefore = c.state.phase;
  const graceExpired = phaseBefore === "syncing" && now >= c.syncDeadline;
  const outputs = c.handle(input, now);
  return { input, outputs, phaseBefore, phaseAfter: c.state.phase, graceExpired };
}

const msg = (topic: string, payload: string, qos: 0 | 1 = 0): CoreInput => ({
  type: "message",
  topic,
  payload,
  qos,
});
const ops = (s: CoreStep) => classify(s).map((c) => (c.times === 1 ? c.op : `${c.op}×${c.times}`));

/** A node through boot, connect, its retained config (following switch-7) and report: synced. */
function synced(): NodeCore {
  const c = core();
  step(c, { type: "boot" }, 0);
  step(c, { type: "connected" }, 0);
  step(c, msg("tf/config/lamp-1", "C1 1 switch-7", 1), 10);
  const s = step(c, msg("tf/report/lamp-1", "R1 0 3 lamp-1", 1), 20);
  expect(ops(s)).toEqual(["syncComplete"]);
  return c;
}

describe("the sync", () => {
  it("charges boot, connect, the retained config and the report that completes the sync", () => {
    const c = core();
    expect(ops(step(c, { type: "boot" }, 0))).toEqual(["boot"]);
    expect(ops(step(c, { type: "connected" }, 0))).toEqual(["connected"]);
    expect(ops(step(c, msg("tf/config/lamp-1", "C1 1 switch-7", 1), 10))).toEqual(["retainedConfig"]);
    expect(ops(step(c, { type: "press" }, 15))).toEqual(["pressHeld"]);
    expect(ops(step(c, msg("tf/report/lamp-1", "R1 0 3 lamp-1", 1), 20))).toEqual(["syncComplete"]);
    expect(ops(step(c, { type: "tick" }, 30))).toEqual(["tick"]);
    expect(ops(step(c, { type: "disconnected" }, 40))).toEqual(["disconnected"]);
  });

  it("charges the sync to the tick that ends the grace, and to an input that arrives after it", () => {
    const a = core();
    step(a, { type: "connected" }, 0);
    expect(ops(step(a, { type: "tick" }, GRACE))).toEqual(["syncComplete"]);
    const b = core();
    step(b, { type: "connected" }, 0);
    expect(ops(step(b, { type: "press" }, GRACE + 1))).toEqual(["syncComplete", "press"]);
    const d = core();
    step(d, { type: "connected" }, 0);
    expect(ops(step(d, msg("tf/state/lamp-1", "S1 1 9", 1), GRACE))).toEqual([
      "syncComplete",
      "stateCommand",
    ]);
  });
});

describe("messages while synced", () => {
  it("prices each kind by what the core did", () => {
    const c = synced();
    expect(ops(step(c, msg("tf/state/lamp-1", "S1 1 41", 1), 100))).toEqual(["stateCommand"]);
    expect(ops(step(c, msg("tf/report/switch-7", "R1 0 50 switch-7"), 110))).toEqual(["sourceReportApplied"]);
    expect(ops(step(c, msg("tf/report/switch-7", "R1 0 50 switch-7"), 120))).toEqual(["reportStale"]);
    expect(ops(step(c, { type: "press" }, 130))).toEqual(["press"]);
    expect(ops(step(c, msg("tf/subscribe/lamp-1", "F1 switch-8", 1), 140))).toEqual(["subscribeCommand"]);
    // Already followed: answered with the unchanged config.
    expect(ops(step(c, msg("tf/subscribe/lamp-1", "F1 switch-8", 1), 150))).toEqual(["subscribeCommand"]);
    expect(ops(step(c, msg("tf/unsubscribe/lamp-1", "U1 switch-8", 1), 160))).toEqual(["unsubscribeCommand"]);
    expect(ops(step(c, msg("tf/query", "Q1"), 170))).toEqual(["query"]);
  });

  it("charges the echo of the node's own report as a compared-and-ignored report", () => {
    const c = synced();
    const press = step(c, { type: "press" }, 100);
    const report = press.outputs.find((o) => o.type === "publish");
    expect(report?.topic).toBe("tf/report/lamp-1");
    const echo = step(c, msg(report?.topic ?? "", report?.payload ?? "", 1), 110);
    expect(echo.outputs).toEqual([]);
    expect(ops(echo)).toEqual(["reportStale"]);
  });

  it("scales a config by its sources: 8 sources cost the measured 8-source config", () => {
    const c = synced();
    const ids = Array.from({ length: 8 }, (_, i) => `${"a".repeat(22)}${i + 1}`);
    const s = step(c, msg("tf/config/lamp-1", `C1 9 ${ids.join(" ")}`, 1), 100);
    expect(s.outputs.filter((o) => o.type === "subscribe")).toHaveLength(8);
    expect(ops(s)).toEqual(["retainedConfig", "configPerSource×7"]);
    const k = UNO.coreCycles;
    expect(coreCost(k, s)).toBe(k.retainedConfig + 7 * k.configPerSource);
    expect(ops(step(c, msg("tf/config/lamp-1", "C1 10", 1), 110))).toEqual(["retainedConfig"]);
  });

  it("prices drops by reason", () => {
    const c = synced();
    const cases: [CoreInput, string][] = [
      [msg("tf/report/switch-7", "R1 2 42 switch-7"), "badPayload"],
      [msg("tf/blink/lamp-1", "R1 1 42 switch-7"), "badTopic"],
      [msg("tf/state/lamp-2", "S1 1 4", 1), "badTopic"],
      [msg("tf/report/other-9", "R1 1 42 other-9"), "reportStale"],
      [msg("tf/subscribe/lamp-1", "F1 lamp-1", 1), "reportStale"],
      [msg("tf/state/lamp-1", "S2 1 4", 1), "badPayload"],
    ];
    for (const [input, op] of cases) {
      const s = step(c, input, 100);
      expect(s.outputs.some((o) => o.type === "drop")).toBe(true);
      expect(ops(s)).toEqual([op]);
    }
  });
});

describe("coreCost", () => {
  it("sums the profile's figures, and the ideal profile's are all zero", () => {
    const c = synced();
    const s = step(c, { type: "press" }, 100);
    expect(coreCost(UNO.coreCycles, s)).toBe(3075);
    expect(coreCost(loadProfile("ideal").coreCycles, s)).toBe(0);
  });
});
