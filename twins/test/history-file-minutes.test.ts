/**
 * The long tier's minute lines in the history file are dated and judged as the points are: written at
 * the scheduler's time plus the dates' offset, read back onto its time, and left out when dated after
 * the start (a clock set back), so a minute never stands after the minutes to come.
 */
import { describe, expect, it } from "vitest";
import { minuteLine, parseHistory, pointLine } from "../history-file.js";

const header = `${JSON.stringify({ format: 2, history: "twinfleet convergence", fleet: "tf" })}\n`;
const EPOCH = 1_796_600_000_000;

describe("the history file's minutes", () => {
  it("are written as dates and read back onto the scheduler's time", () => {
    const line = minuteLine({ t: 120_000, fraction: 0.5, inSync: 2, known: 4, online: 4 }, EPOCH);
    expect(JSON.parse(line).m).toBe(EPOCH + 120_000);
    const read = parseHistory(header + line, 16, { offset: EPOCH, notAfter: 600_000, fleet: "tf" });
    if (read.kind !== "read") throw new Error(`not read: ${read.kind}`);
    expect(read.history.minutes).toEqual([{ t: 120_000, fraction: 0.5, inSync: 2, known: 4, online: 4 }]);
    expect(read.history.future.count).toBe(0);
  });

  it("keep a minute in which nodes joined as one (MinutePoint.joining)", () => {
    const joining = { t: 60_000, fraction: 0, inSync: 0, known: 2, online: 2, joining: true as const };
    const read = parseHistory(header + minuteLine(joining, EPOCH), 16, { offset: EPOCH, notAfter: 600_000 });
    if (read.kind !== "read") throw new Error(`not read: ${read.kind}`);
    expect(read.history.minutes).toEqual([joining]);
  });

  it("are left out and counted when dated after the start", () => {
    const text =
      header +
      pointLine({ t: 100_000, fraction: 1, inSync: 4, known: 4 }, false, EPOCH) +
      minuteLine({ t: 60_000, fraction: 1, inSync: 4, known: 4, online: 4 }, EPOCH) +
      minuteLine({ t: 3_600_000, fraction: 0.25, inSync: 1, known: 4, online: 4 }, EPOCH);
    const read = parseHistory(text, 16, { offset: EPOCH, notAfter: 200_000 });
    if (read.kind !== "read") throw new Error(`not read: ${read.kind}`);
    expect(read.history.minutes.map((m) => m.t)).toEqual([60_000]);
    expect(read.history.future).toEqual({ count: 1, latest: 3_600_000 });
    // The gap starts at the last record before the start: the kept minute's end, not the future one's.
    expect(read.history.lastAlive).toBe(120_000);
  });
});
