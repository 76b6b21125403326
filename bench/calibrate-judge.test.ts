/**
 * The calibration's judge (bench/calibrate-judge.ts): a press's latency and loss read from a run's
 * messages as the fleet's checker reads them.
 */
import { describe, expect, it } from "vitest";
import { judgeAsChecker } from "./calibrate-judge.js";

describe("judgeAsChecker", () => {
  it("times a lone press from its publish to the partner's receipt", () => {
    const j = judgeAsChecker(2, [{ id: 0, from: 0, at: 10 }], [{ id: 0, at: 110 }]);
    expect(j).toEqual({ latencies: [100], lost: 0 });
  });

  it("settles a pair by the partner's own newer press, as the checker does (state, not message)", () => {
    // Client 0 presses at 0 (stamp 1@cal-0); client 1 presses at 50 before it has that message
    // (1@cal-1, newer by id); 0's message reaches 1 at 100 (stale there), 1's reaches 0 at 120.
    const j = judgeAsChecker(
      2,
      [
        { id: 0, from: 0, at: 0 },
        { id: 1, from: 1, at: 50 },
      ],
      [
        { id: 0, at: 100 },
        { id: 1, at: 120 },
      ],
    );
    expect(j.latencies.sort((a, b) => a - b)).toEqual([50, 70]);
    expect(j.lost).toBe(0);
  });

  it("raises the clock on every report seen, so a later press is newer than what arrived", () => {
    // 0 presses twice (1@cal-0, 2@cal-0); 1 gets both, then presses: 3@cal-1 reaches 0.
    const j = judgeAsChecker(
      4,
      [
        { id: 0, from: 0, at: 0 },
        { id: 1, from: 0, at: 10 },
        { id: 2, from: 1, at: 100 },
      ],
      [
        { id: 0, at: 20 },
        { id: 1, at: 30 },
        { id: 2, at: 400 },
      ],
    );
    expect(j.latencies.sort((a, b) => a - b)).toEqual([20, 20, 300]);
  });

  it("counts a press never received, or received after the limit, as lost", () => {
    const j = judgeAsChecker(
      2,
      [
        { id: 0, from: 0, at: 0 },
        { id: 1, from: 1, at: 10_000 },
      ],
      [{ id: 1, at: 16_000 }],
    );
    expect(j).toEqual({ latencies: [], lost: 2 });
  });

  it("names bad input", () => {
    expect(() => judgeAsChecker(3, [], [])).toThrow(/clients must be an even number ≥ 2, got 3/);
    expect(() => judgeAsChecker(2, [{ id: 0, from: 2, at: 0 }], [])).toThrow(/press 0 from client 2/);
    expect(() => judgeAsChecker(2, [], [{ id: 7, at: 0 }])).toThrow(/receipt of message 7, never pressed/);
  });
});
