// The twins' bad-input log under a flood: the first lines of a window one by one, the rest summed up
// once at the window's end, only summaries while the flood lasts, lines again after a quiet window.
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler, type Scheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { BAD_INPUT_LINES, BAD_INPUT_WINDOW_MS, BadInputLog } from "../bad-input.js";
import type { BadInput } from "../types.js";

const bad: BadInput = {
  reason: "bad-payload",
  node: NodeId("n-1"),
  topic: "tf/report/n-1",
  detail: 'report payload "G1 toaster" must start with the tag R1',
};
const stale: BadInput = { ...bad, reason: "stale-report", detail: "older than the twin's" };

it("logs a flood of bad input as a few lines and one summary per window, not a line per message", () => {
  const sched = new FakeScheduler(0);
  const lines: { msg: string; byReason?: Record<string, number> }[] = [];
  const log = new BadInputLog(
    pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    sched,
  );

  for (let i = 0; i < 1000; i++) log.log(i % 2 ? bad : stale);
  expect(lines).toHaveLength(BAD_INPUT_LINES);
  expect(lines[0]?.msg).toBe("twins: bad input: older than the twin's");
  sched.advance(BAD_INPUT_WINDOW_MS);
  expect(lines).toHaveLength(BAD_INPUT_LINES + 1);
  expect(lines.at(-1)?.msg).toMatch(
    /^twins: 980 more bad inputs in 10 s, not logged one by one \(490 stale-report, 490 bad-payload\)/,
  );
  expect(lines.at(-1)?.byReason).toEqual({ "stale-report": 490, "bad-payload": 490 });

  // The flood goes on: its windows are summaries only.
  for (let i = 0; i < 500; i++) log.log(bad);
  sched.advance(BAD_INPUT_WINDOW_MS);
  expect(lines).toHaveLength(BAD_INPUT_LINES + 2);
  expect(lines.at(-1)?.msg).toMatch(/^twins: 500 more bad inputs/);

  // A quiet window later, a bad input is a line of its own again.
  sched.advance(2 * BAD_INPUT_WINDOW_MS);
  log.log(bad);
  expect(lines).toHaveLength(BAD_INPUT_LINES + 3);
  expect(lines.at(-1)?.msg).toBe(`twins: bad input: ${bad.detail}`);

  // Stopping writes what is held back.
  for (let i = 0; i < BAD_INPUT_LINES + 5; i++) log.log(bad);
  log.stop();
  expect(lines.at(-1)?.msg).toMatch(/^twins: 6 more bad inputs/);
  sched.advance(10 * BAD_INPUT_WINDOW_MS);
  expect(lines.at(-1)?.msg).toMatch(/^twins: 6 more bad inputs/);
});

it("a window's timer run late by the host does not cut the next window's summary short", () => {
  const fake = new FakeScheduler(0);
  const late: Scheduler = {
    now: () => fake.now(),
    wallNow: () => fake.wallNow(),
    at: (t, fn) => fake.at(t + 2000, fn),
  };
  const lines: { msg: string }[] = [];
  const log = new BadInputLog(
    pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    late,
  );
  for (let i = 0; i < 100; i++) log.log(bad);
  fake.advance(BAD_INPUT_WINDOW_MS);
  // The next window opens with an input before the late timer: it sums up the first.
  for (let i = 0; i < 8; i++) log.log(bad);
  expect(lines.at(-1)?.msg).toMatch(/^twins: 80 more bad inputs/);
  fake.advance(2000);
  expect(lines.at(-1)?.msg).toMatch(/^twins: 80 more bad inputs/);
  fake.advance(BAD_INPUT_WINDOW_MS);
  expect(lines.at(-1)?.msg).toMatch(/^twins: 8 more bad inputs/);
  expect(lines).toHaveLength(BAD_INPUT_LINES + 2);
});
