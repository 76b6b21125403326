// A broker restart that fails (its data directory full, or gone: `sim --broker-data` on a disk that
// filled) leaves the run without a broker: no node can come back, and the settle ends once the fault
// has failed. It waited its full 120 s more for a recovery that could not come.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { FleetRun } from "../run.js";

it("ends the settle when the broker's restart failed, instead of waiting 120 s for the fleet", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tf-broker-gone-"));
  const data = join(dir, "b");
  try {
    const run = await FleetRun.start({
      nodes: 4,
      topology: "ring",
      groupSize: 4,
      ratePerNodePerMin: 0,
      durationS: 4,
      settleS: 1,
      profile: "ideal",
      workers: 1,
      brokerData: data,
      faults: [{ kind: "broker-restart", atS: 0.5, downS: 1 }],
      faultsSpec: "test",
    });
    run.on("fault-start", (f) => {
      // While it is down, a file takes its directory's place: it cannot start again.
      if (f.kind !== "broker-restart") return;
      renameSync(data, join(dir, "away"));
      writeFileSync(data, "x");
    });
    const r = await run.done;
    expect(r.faults[0]?.error).toMatch(/cannot be created: EEXIST/);
    expect(r.sim.settleS).toBeLessThan(10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
