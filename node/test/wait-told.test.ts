// A wait told at set ages (node/wait-told.ts): at its first age and every `againMs` after, each at
// that age however late the host runs its timers, with the wait's real age; nothing once cancelled.
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../scheduler.js";
import { WaitTold } from "../wait-told.js";
import { LateHost } from "./late-host.js";

describe("WaitTold", () => {
  it("tells at 5 s and every 30 s after, at those ages on a host that runs timers late", () => {
    const fake = new FakeScheduler(1_000);
    const told: number[] = [];
    const wait = new WaitTold(new LateHost(fake, 150), 1_000, 5_000, 30_000, (ms) => told.push(ms));
    fake.advance(5_149);
    expect(told).toEqual([]);
    expect(wait.told).toBe(false);
    fake.advance(1);
    expect(told).toEqual([5_150]);
    expect(wait.told).toBe(true);
    fake.advance(60_000);
    // Not 30 s after each line ran (35,300, 65,450): 30 s after the first age, late by one timer's lateness.
    expect(told).toEqual([5_150, 35_150, 65_150]);
    wait.cancel();
    fake.advance(100_000);
    expect(told).toHaveLength(3);
  });
});
