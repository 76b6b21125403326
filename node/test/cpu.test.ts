// The modeled CPU's load: a job busy-waiting past `now` (a W5100 reset wait of a minute) is busy time
// not yet elapsed, and the load read meanwhile is at most all of the time (it read 132 %).
import { describe, expect, it } from "vitest";
import { Cpu } from "../cpu.js";

describe("Cpu", () => {
  it("never reads above 100 %, a job scheduled past now included", () => {
    const cpu = new Cpu(16_000_000, 1, 100);
    cpu.powerOn(0);
    cpu.begin(10);
    cpu.blockUntil(60_000);
    expect(cpu.stats(1_000).utilization).toBe(1);
    expect(cpu.stats(120_000).utilization).toBeCloseTo(59_990 / 120_000, 6);
  });
});
