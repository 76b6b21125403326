// A broker lost in the boot, before the presses' start: the report's `atMs` counts from that start
// and is negative (docs/metrics.md); the summary says it was in the boot, not `at -29.5 s`.
import { describe, expect, it } from "vitest";
import { heldJudgement } from "../../fleet/joined-held.js";
import type { BrokerOutageReport } from "../../fleet/report.js";
import { outageLines } from "../sim-summary.js";

const outage = (atMs: number): BrokerOutageReport => ({
  atMs,
  durationMs: 39_000,
  back: false,
  nodes: 40,
  disconnected: 1,
  recoveryMs: null,
  reregisteredMaxMs: null,
  offlineDetectedMaxMs: null,
  pressesDuring: 6,
  lateBeyond5s: 0,
  lostForGood: 42,
});

describe("the time of a broker lost", () => {
  it("in the boot is told as before the presses' start, never as a negative time", () => {
    const line = outageLines([outage(-29_500)]);
    expect(line).toContain(
      "broker lost    in the boot, 29.5 s before the presses' start for 39.0 s, not back by the end",
    );
    expect(line).not.toMatch(/-\d/);
    const held = heldJudgement(
      { clientId: "ctl", asked: 40, answered: 0, notHeld: 0, notHeldIds: [] },
      -29_500,
    );
    expect(held.unknown).toContain("the broker was lost in the boot, 29.5 s before the presses' start");
  });

  it("in the presses keeps its time from their start", () => {
    expect(outageLines([outage(6600)])).toContain("broker lost    at 6.6 s for 39.0 s");
  });
});
