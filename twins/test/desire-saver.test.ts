// The desire saver: a burst of changes in one turn of the event loop costs one snapshot, and with a
// spacing the next save waits until the gap after the last one started, on the injected scheduler.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { DesireSaver } from "../desire-saver.js";
import { memoryStore, type StoredState } from "../store.js";

const quiet = pino({ level: "silent" });

describe("desire saver", () => {
  it("takes one snapshot for a burst of changes in one turn", async () => {
    let snapshots = 0;
    const saver = new DesireSaver(
      memoryStore(),
      () => ({ nodes: { [`s${++snapshots}`]: { sources: [], configVersion: 1 } } }) as StoredState,
      quiet,
    );
    // Changes arriving one promise continuation after another, as a batch of messages is handled.
    for (let i = 0; i < 100; i++) {
      saver.save();
      await Promise.resolve();
    }
    await saver.flush();
    expect(snapshots).toBe(1);
  });

  it("with a gap, a save waits until the gap after the last one started", async () => {
    const sched = new FakeScheduler(0);
    const store = memoryStore();
    let snapshots = 0;
    const saver = new DesireSaver(
      store,
      () => ({ nodes: {}, n: ++snapshots }) as unknown as StoredState,
      quiet,
      {
        scheduler: sched,
        gapMs: () => 500,
      },
    );
    saver.save();
    await saver.flush();
    expect(snapshots).toBe(1);
    saver.save();
    for (let i = 0; i < 5; i++) await hostTurn();
    sched.advance(499);
    for (let i = 0; i < 5; i++) await hostTurn();
    expect(snapshots).toBe(1);
    sched.advance(1);
    await saver.flush();
    expect(snapshots).toBe(2);
    expect(((await store.load()) as unknown as { n: number }).n).toBe(2);
  });
});
