// The wait for a broker's retained flood before pairing: over after a quiet spell, or at a bound
// however long the flood goes on; it stops listening when it is over.
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { retainedSettled } from "../waits.js";

function flood(sched: FakeScheduler) {
  const listeners = new Set<() => void>();
  // When it stopped listening, on the clock: it does so as it resolves.
  let settledAt: number | undefined;
  const done = retainedSettled(sched, (message) => {
    listeners.add(message);
    return () => {
      settledAt = sched.now();
      listeners.delete(message);
    };
  });
  return {
    listeners,
    done,
    settledAt: () => settledAt,
    message: () => {
      for (const l of listeners) l();
    },
  };
}

describe("retainedSettled", () => {
  it("resolves 300 ms after the last message and stops listening", async () => {
    const sched = new FakeScheduler();
    const f = flood(sched);
    sched.runUntil(200);
    f.message();
    sched.runUntil(450);
    f.message();
    sched.runUntil(749);
    expect(f.settledAt()).toBeUndefined();
    sched.runUntil(750);
    await f.done;
    expect(f.settledAt()).toBe(750);
    expect(f.listeners.size).toBe(0);
  });

  it("resolves at 3 s even while messages keep coming", async () => {
    const sched = new FakeScheduler();
    const f = flood(sched);
    for (let t = 100; t <= 5000; t += 100) {
      sched.runUntil(t);
      f.message();
    }
    await f.done;
    expect(f.settledAt()).toBe(3000);
  });
});
