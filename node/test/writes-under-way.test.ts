/**
 * The record of writes under way both services' stall words come from (node/writes-under-way.ts):
 * the oldest is the first begun still under way, however many began and ended after it.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../scheduler.js";
import { WritesUnderWay } from "../writes-under-way.js";

describe("WritesUnderWay", () => {
  it("names the oldest write still under way and how long it has waited, each end with its own length", () => {
    const sched = new FakeScheduler();
    const writes = new WritesUnderWay<string>(() => sched.now());
    expect(writes.oldest()).toBeUndefined();
    expect(writes.oldestWaitMs()).toBeUndefined();
    const will = writes.begin("the will of n-1");
    sched.advance(1_000);
    const test = writes.begin("the test write of d");
    sched.advance(2_000);
    const retained = writes.begin("a retained message for tf/a");
    expect(writes.size).toBe(3);
    expect(writes.oldest()).toEqual({ what: "the will of n-1", since: 0 });
    expect(writes.end(will)).toEqual({ what: "the will of n-1", since: 0, ms: 3_000 });
    expect(writes.end(will)).toBeUndefined();
    sched.advance(4_000);
    expect(writes.oldest()?.what).toBe("the test write of d");
    expect(writes.oldestWaitMs()).toBe(6_000);
    writes.end(test);
    expect(writes.oldestWaitMs()).toBe(4_000);
    writes.end(retained);
    expect(writes.size).toBe(0);
    expect(writes.oldest()).toBeUndefined();
  });
});
