// The fault cell of the sweep's page: what a row has to say beside its figures.
import { describe, expect, it } from "vitest";
import type { FaultReport } from "../../fleet/report.js";
import { faultLabel } from "../html-faults.js";

const row: FaultReport = {
  kind: "broker-restart",
  atMs: 15_000,
  durationMs: 5000,
  nodes: 200,
  recoveryMs: 1500,
  disconnected: 180,
  reregisteredMaxMs: 1500,
  offlineDetectedMaxMs: null,
  pressesDuring: 90,
  lateBeyond5s: 42,
  lostForGood: 0,
};

describe("faultLabel", () => {
  it("says which nodes another fault held, and counted", () => {
    const label = faultLabel({ ...row, held: 20, heldBy: ["partition"] });
    expect(label).toContain("not counting 20 nodes held by partition: counted there");
    expect(faultLabel(row)).not.toContain("held by");
  });

  it("says when a frozen client waited for the broker, and when the broker cut it off", () => {
    const frozen = { ...row, kind: "frozen-client", cutAfterMs: null, frozenAfterMs: 5100 };
    expect(faultLabel(frozen)).toContain("it waited for the broker");
    expect(faultLabel(frozen)).toContain("not cut off by the broker");
    expect(faultLabel({ ...frozen, frozenAfterMs: 12 })).not.toContain("waited");
  });
});
