/**
 * A standalone twins service's convergence lines: one when the figure moves, at most one a second,
 * the latest figure of a busy second at its end, none for a figure already written.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { ConvergenceLog } from "../convergence-log.js";

function setup() {
  const lines: [number, number][] = [];
  const sched = new FakeScheduler();
  const logger = pino(
    { level: "info" },
    { write: (s: string) => lines.push([sched.now(), (JSON.parse(s) as { inSync: number }).inSync]) },
  );
  const log = new ConvergenceLog(logger, sched);
  const report = (inSync: number) => log.report({ inSync, known: 200, fraction: inSync / 200 });
  return { lines, sched, log, report };
}

it("writes a moving figure at most once a second, the latest at the second's end", () => {
  const { lines, sched, report } = setup();
  report(200);
  // A busy second: the service's 100 ms recomputations, ending out of sync.
  for (const f of [191, 200, 193, 200, 195, 200, 197, 200, 199]) {
    sched.advance(100);
    report(f);
  }
  sched.advance(100);
  expect(lines).toEqual([
    [0, 200],
    [1000, 199],
  ]);
  // A busy second that ends where it began writes nothing more.
  for (const f of [190, 199]) {
    sched.advance(300);
    report(f);
  }
  sched.advance(2000);
  expect(lines).toHaveLength(2);
  // After a quiet second, a moving figure is written at once.
  report(200);
  expect(lines.at(-1)).toEqual([sched.now(), 200]);
});

it("writes the figure it holds when the service stops", () => {
  const { lines, sched, log, report } = setup();
  report(200);
  sched.advance(10);
  report(150);
  log.stop();
  expect(lines).toEqual([
    [0, 200],
    [10, 150],
  ]);
  sched.advance(5000);
  expect(lines).toHaveLength(2);
});
