// What the settle is shown as (a countdown on a fake clock, then what it waits for) and how the
// loss set during a run is recorded and summed up.
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { describeLoss, type LossChange, meanLossPct } from "../loss-log.js";
import { QUIET_HOLD_MS, SettleWait, secondsLeft, settleLine } from "../settle.js";

describe("the settle's line", () => {
  const status = { minUntil: 10_000, maxUntil: 10_000, inFlight: 0, faults: 0, notBack: 0 };

  it("counts down to --settle, rounding up, and names the deliveries in flight", () => {
    expect(settleLine(status, 0)).toBe("settling: 10 s left");
    expect(settleLine(status, 1)).toBe("settling: 10 s left");
    expect(settleLine(status, 1000)).toBe("settling: 9 s left");
    expect(settleLine({ ...status, inFlight: 3 }, 9_001)).toBe("settling: 1 s left, 3 deliveries in flight");
    expect(settleLine({ ...status, inFlight: 1 }, 5_000)).toBe("settling: 5 s left, 1 delivery in flight");
    // Past --settle, deliveries owed for more than 5 s are what it waits for: said, not "done".
    expect(settleLine({ ...status, maxUntil: 130_000, overdue: 12 }, 11_000)).toBe(
      "settling: waiting for 12 deliveries overdue (not reflected after 5 s); 119 s at most",
    );
  });

  it("says how much longer it may wait after faults, then what it waits for and for how long at most", () => {
    const faulted = { ...status, maxUntil: 130_000, faults: 1, notBack: 4, inFlight: 2 };
    expect(settleLine(faulted, 2_000)).toBe(
      "settling: 8 s left, 2 deliveries in flight (then up to 120 s more while the fleet recovers)",
    );
    expect(settleLine(faulted, 35_500)).toBe(
      "settling: waiting for 1 fault to end, 4 nodes to be back, 2 deliveries in flight; 95 s at most",
    );
    expect(settleLine({ ...faulted, faults: 0, notBack: 1, inFlight: 0 }, 129_999)).toBe(
      "settling: waiting for 1 node to be back; 1 s at most",
    );
    expect(settleLine({ ...faulted, faults: 0, notBack: 0, inFlight: 0 }, 20_000)).toBe(
      "settling: done, writing the report",
    );
  });

  it("never counts below zero", () => {
    expect(secondsLeft(1000, 5000)).toBe(0);
    expect(secondsLeft(1000, 999)).toBe(1);
  });
});

describe("the settle's wait, on a fake clock", () => {
  /** Lets the wait's loop run (it goes on in promise callbacks), without waiting on time. */
  const turn = () => new Promise<void>((r) => setImmediate(r));
  /** Advances `sched` to `until` in steps shorter than the wait's 200 ms poll, letting the loop run. */
  async function advanceTo(sched: FakeScheduler, until: number): Promise<void> {
    while (sched.now() < until) {
      sched.runUntil(Math.min(until, sched.now() + 50));
      await turn();
    }
  }

  it("waits out --settle, then goes on (saying so once) until the fleet is over its faults", async () => {
    const sched = new FakeScheduler();
    const wait = new SettleWait(1_000, 120_000, sched);
    let over = false;
    let extended = 0;
    let finished = false;
    const done = wait
      .wait(
        () => over,
        () => extended++,
      )
      .then(() => {
        finished = true;
      });
    await advanceTo(sched, 999);
    expect([finished, extended]).toEqual([false, 0]);
    await advanceTo(sched, 1_000);
    expect([finished, extended]).toEqual([false, 1]);
    over = true;
    // `over` is looked at on the next poll, 200 ms on (1,200), and must still hold QUIET_HOLD_MS
    // later: a node's events reach the collector late, and one may drop again just after a fault.
    await advanceTo(sched, 1_200 + QUIET_HOLD_MS - 1);
    expect(finished).toBe(false);
    await advanceTo(sched, 1_200 + QUIET_HOLD_MS + 200);
    await done;
    expect(finished).toBe(true);
    expect(extended).toBe(1);
    expect(sched.pending).toBe(0);
  });

  it("starts the hold again when the fleet looks recovered, then not", async () => {
    const sched = new FakeScheduler();
    let over = false;
    let finished = false;
    const done = new SettleWait(1_000, 120_000, sched)
      .wait(
        () => over,
        () => {},
      )
      .then(() => {
        finished = true;
      });
    over = true;
    await advanceTo(sched, 1_900); // held since 1,000
    over = false;
    await advanceTo(sched, 2_100); // looked at, at 2,000: not over
    over = true; // held from the look at 2,200
    await advanceTo(sched, 2_200 + QUIET_HOLD_MS - 1);
    expect(finished).toBe(false);
    await advanceTo(sched, 2_200 + QUIET_HOLD_MS + 200);
    await done;
    expect(finished).toBe(true);
  });

  it("ends at the bound even if the fleet never recovers, and at once on cut()", async () => {
    const late = new FakeScheduler(5_000);
    await new SettleWait(1_000, 4_000, late).wait(
      () => false,
      () => {},
    );
    const bounded = new FakeScheduler();
    let ended = false;
    const boundedDone = new SettleWait(1_000, 4_000, bounded)
      .wait(
        () => false,
        () => {},
      )
      .then(() => {
        ended = true;
      });
    await advanceTo(bounded, 3_999);
    expect(ended).toBe(false);
    await advanceTo(bounded, 4_000);
    await boundedDone;
    const sched = new FakeScheduler();
    const cut = new SettleWait(60_000, 180_000, sched);
    const done = cut.wait(
      () => false,
      () => {},
    );
    await turn();
    cut.cut();
    await done;
    expect(sched.now()).toBe(0);
    expect(sched.pending).toBe(0);
  });
});

describe("the loss over a run", () => {
  const changes: LossChange[] = [
    { atMs: 12_000, pct: 10, by: "console" },
    { atMs: 40_000, pct: 0, by: "settle" },
  ];

  it("weights each value by how long it held during the presses", () => {
    expect(meanLossPct(0, changes, 0, 40_000)).toBe(7); // 10 % for 28 s of 40
    expect(meanLossPct(5, [], 0, 40_000)).toBe(5);
    // A change before the presses started is where they start from.
    expect(meanLossPct(0, [{ atMs: -2_000, pct: 20, by: "console" }], 0, 10_000)).toBe(20);
    // Changes after the presses do not count.
    expect(meanLossPct(0, changes, 0, 12_000)).toBe(0);
    expect(meanLossPct(7, changes, 0, 0)).toBe(7);
  });

  it("shows the loss as it changed, with when and by what, and the mean", () => {
    expect(describeLoss({ startPct: 15, changes: [], meanDuringPressesPct: 15 })).toBe("15% loss");
    expect(describeLoss({ startPct: 0, changes, meanDuringPressesPct: 7 })).toBe(
      "loss 0% → 10% at 12.0 s (console) → 0% at 40.0 s (settle); mean 7% during the presses",
    );
    const many = Array.from({ length: 9 }, (_, i): LossChange => ({ atMs: i * 1000, pct: i, by: "fault" }));
    const text = describeLoss({ startPct: 0, changes: many, meanDuringPressesPct: 4.444 });
    expect(text).toContain("5% at 5.0 s (fault) → … 3 more; mean 4.4% during the presses");
    expect(text).not.toContain("6% at");
  });
});
