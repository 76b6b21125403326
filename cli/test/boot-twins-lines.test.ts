// A twins service that left, came back or stood beside the run's in the boot, before the presses'
// start: the report's times count from that start and are negative (docs/metrics.md); the summary
// says they were in the boot, where it said `twins left … at -3.4 s` (a standalone `twinfleet twins`
// kill -9ed as a joining run's 600 nodes booted) and `twins beside … from -4.1 s to -1.0 s`.
import { describe, expect, it } from "vitest";
import { pairingLine } from "../sim-summary.js";
import { joinedLines, ownLines } from "../twins-beside-lines.js";

describe("the times of the twins services' lines", () => {
  it("in the boot are told as before the presses' start, never as negative times", () => {
    const joined = joinedLines({
      joinedTwins: {
        clientId: "ctl-a",
        left: [
          { clientId: "ctl-a", atMs: -3400, backAtMs: -1200, backAs: "ctl-b", restarted: true },
          { clientId: "ctl-b", atMs: -600 },
        ],
        beside: [{ clientId: "ctl-m", atMs: -5000, leftAtMs: -2500 }],
        handedOver: [{ clientId: "ctl-m", atMs: -2500, stayed: ["ctl-a"] }],
      },
    });
    expect(joined).toContain(
      "twins left     ctl-a (joined) in the boot, 3.4 s before the presses' start, back in the boot, 1.2 s before the presses' start as ctl-b (restarted)\n",
    );
    expect(joined).toContain(
      "twins left     ctl-b in the boot, 0.6 s before the presses' start, not back by the end",
    );
    expect(joined).toContain(
      "twins beside   ctl-m from the start to 2.5 s before the presses' start (in the boot): another controller",
    );
    expect(joined).toContain(
      "twins left     ctl-m in the boot, 2.5 s before the presses' start; ctl-a, beside it, still controlled the fleet",
    );
    expect(joined).not.toMatch(/-\d+\.\d s/);
    const own = ownLines({
      ownTwins: { clientId: "ctl-r", beside: [{ clientId: "ctl-x", atMs: -4100, leftAtMs: 2000 }] },
    });
    expect(own).toContain(
      "twins beside   ctl-x from 4.1 s before the presses' start (in the boot) to 2.0 s: another controller beside ctl-r (this run's)",
    );
    expect(own).not.toMatch(/-\d+\.\d s/);
    // A node re-paired through the console as the fleet boots.
    const change = { node: "n-0005", follows: ["n-0004"], followed: ["n-0004"] };
    const repaired = (firstAtMs: number, lastAtMs: number) =>
      pairingLine({
        pairingChanges: {
          changes: 2,
          nodes: 1,
          firstAtMs,
          lastAtMs,
          differAtEnd: 1,
          list: [
            { ...change, atMs: firstAtMs },
            { ...change, atMs: lastAtMs },
          ],
        },
      });
    expect(repaired(-2300, 1500)).toContain(
      "2 changes from 2.3 s before the presses' start (in the boot) to 1.5 s; 1 node paired otherwise",
    );
    expect(repaired(-2300, -2300)).toContain(
      "2 changes in the boot, 2.3 s before the presses' start; 1 node",
    );
    expect(repaired(-2300, 1500)).not.toMatch(/-\d+\.\d s/);
  });

  it("in the presses keep their times from their start", () => {
    const joined = joinedLines({
      joinedTwins: { clientId: "ctl-a", left: [{ clientId: "ctl-a", atMs: 3000, backAtMs: 4000 }] },
    });
    expect(joined).toContain("twins left     ctl-a (joined) at 3.0 s, back at 4.0 s");
    const own = ownLines({
      ownTwins: { clientId: "ctl-r", beside: [{ clientId: "ctl-x", atMs: 12_000, leftAtMs: 16_900 }] },
    });
    expect(own).toContain(
      "twins beside   ctl-x from 12.0 s to 16.9 s: another controller beside ctl-r (this run's)",
    );
  });
});
