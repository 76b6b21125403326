// A stall's presses: a process that did not run made none during it; those that came due fire when it
// runs again, after its end, and are the stall's (fleet/stall-report.ts).
import { expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import { SyncChecker } from "../../sim/checker.js";
import { NodeTimeline } from "../../sim/recovery.js";
import { followersReach } from "../../sim/topology.js";
import { stallReports } from "../stall-report.js";

const [A, B] = [NodeId("A"), NodeId("B")];
const st = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

it("counts the presses made from a stall's start until 3 s after it, not only those inside it", () => {
  const reach = followersReach(
    new Map([
      [A, [B]],
      [B, [A]],
    ]),
  );
  const c = new SyncChecker(reach);
  const press = (node: NodeId, counter: number, at: number) => {
    c.press({ node, stamp: st(counter, node), at });
    c.applied({ node: node === A ? B : A, stamp: st(counter, node), at: at + 10 });
  };
  press(A, 1, 9_000); // before the stall
  // The stall runs from 10 s to 30 s: nothing is pressed in it; what came due fires at 30.02 s.
  press(A, 2, 30_020);
  press(B, 3, 30_021);
  press(A, 4, 32_500); // in the aftermath
  press(B, 5, 34_000); // after it
  c.finish();
  const stall = { startMs: 10_000, endMs: 30_000 };
  const [r] = stallReports(
    [stall],
    [],
    [30_022, 35_000],
    {
      fleet: [A, B],
      reach,
      timeline: new NodeTimeline(),
      pairs: c.pairs(),
      slow: c.slow,
      pressTimes: c.pressTimes,
      endMs: 40_000,
    },
    0,
  );
  expect(r?.pressesDuring).toBe(3);
  expect(r?.pressesIgnored).toBe(1);
  expect(r?.durationMs).toBe(20_000);
});
