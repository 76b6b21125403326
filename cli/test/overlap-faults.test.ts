/**
 * Two faults at once, on virtual time: a broker restart inside a long partition. The cut-off node
 * is back only when its cable is, so its return and the pairs through it are the partition's; the
 * restart's row (and the broker outage's) says how long the rest of the fleet took, and that one
 * node was counted elsewhere.
 */
import { expect, it } from "vitest";
import { FleetRun } from "../../fleet/run.js";
import { NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";

it("a broker restart inside a partition: the cut-off node counts in the partition's row", async () => {
  const run = await FleetRun.start({
    clock: "virtual",
    nodes: 8,
    topology: "ring",
    groupSize: 4,
    ratePerNodePerMin: 12,
    durationS: 30,
    settleS: 2,
    profile: "uno-w5100",
    faults: [
      { kind: "partition", atS: 1, forS: 40, nodes: [NodeId("n-0001")] },
      { kind: "broker-restart", atS: 10, downS: 2 },
    ],
    faultsSpec: "test",
  });
  const r = await run.done;
  const [partition, restart] = r.faults;
  expect(partition).toMatchObject({ kind: "partition", nodes: 1 });
  expect(partition?.held).toBeUndefined();
  // Back within seconds of the partition's end.
  expect(partition?.recoveryMs).toBeLessThan(10_000);
  expect(restart).toMatchObject({ kind: "broker-restart", nodes: 8, held: 1, heldBy: ["partition"] });
  // The other seven were back within seconds of the broker, not at the partition's end 29 s later.
  expect(restart?.recoveryMs).toBeLessThan(10_000);
  expect(r.brokerOutages?.[0]).toMatchObject({ held: 1, heldBy: ["partition"] });
  expect(r.lostForGood).toBe(0);
  const text = summary(r);
  expect(text).toMatch(
    /broker-restart at 10\.0 s for 2\.0 s: 8 nodes hit, 7 disconnected, recovered after \d+\.\d s, re-registered max \d+\.\d s \(not counting 1 node held by partition: counted there\)/,
  );
  expect(text).toMatch(/broker lost .*\(not counting 1 node held by partition: counted there\)/);
}, 60_000);
