/**
 * A standalone twins service's convergence lines. At info: the figure the fleet settles at (the best
 * of each 10 s window), when it changes; nothing for presses that put followers out of sync for a
 * moment. At debug: the figure as it moves, at most once a second, the latest of a busy second at its
 * end, none for a figure already written.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { CONVERGENCE_SETTLED_MS, ConvergenceLog } from "../convergence-log.js";

function setup(level: "info" | "debug") {
  const lines: [number, number, string][] = [];
  const sched = new FakeScheduler();
  const logger = pino(
    { level },
    {
      write: (s: string) => {
        const l = JSON.parse(s) as { inSync: number; level: number };
        lines.push([sched.now(), l.inSync, l.level === 30 ? "info" : "debug"]);
      },
    },
  );
  const log = new ConvergenceLog(logger, sched);
  const report = (inSync: number) => log.report({ inSync, known: 200, fraction: inSync / 200 });
  const at = (level: string) => lines.filter((l) => l[2] === level).map(([t, f]) => [t, f]);
  return { lines, sched, log, report, at };
}

/** A pressing fleet: every 100 ms a figure, out of sync for a moment, back in sync between. */
function presses(sched: FakeScheduler, report: (n: number) => void, ms: number) {
  for (let i = 0; i < ms / 100; i++) {
    sched.advance(100);
    report(i % 2 === 0 ? 190 + (i % 9) : 200);
  }
}

it("at debug, writes a moving figure at most once a second, the latest at the second's end", () => {
  const { sched, report, at } = setup("debug");
  report(200);
  // A busy second: the service's 100 ms recomputations, ending out of sync.
  for (const f of [191, 200, 193, 200, 195, 200, 197, 200, 199]) {
    sched.advance(100);
    report(f);
  }
  sched.advance(100);
  expect(at("debug")).toEqual([
    [0, 200],
    [1000, 199],
  ]);
  // A busy second that ends where it began writes nothing more.
  for (const f of [190, 199]) {
    sched.advance(300);
    report(f);
  }
  sched.advance(2000);
  expect(at("debug")).toHaveLength(2);
  // After a quiet second, a moving figure is written at once.
  report(200);
  expect(at("debug").at(-1)).toEqual([sched.now(), 200]);
});

it("at info, a fleet in sync between its presses writes its figure once", () => {
  const { sched, report, at } = setup("info");
  report(200);
  presses(sched, report, 10 * 60_000);
  sched.advance(60_000);
  expect(at("info")).toEqual([[0, 200]]);
});

it("at info, a fleet that stays behind is written as it falls and as it comes back", () => {
  const { sched, report, at } = setup("info");
  report(200);
  presses(sched, report, 30_000);
  // A node cut off: its followers stay behind while the presses go on.
  const cut = sched.now();
  for (let i = 0; i < 600; i++) {
    sched.advance(100);
    report(180 + (i % 5));
  }
  const back = sched.now();
  presses(sched, report, 60_000);
  const infos = at("info");
  expect(infos[0]).toEqual([0, 200]);
  // The window in which the fleet fell still saw it whole; the next one is written at its end.
  expect(infos[1]?.[1]).toBe(184);
  expect(infos[1]?.[0]).toBeGreaterThan(cut);
  expect(infos[1]?.[0]).toBeLessThanOrEqual(cut + 2 * CONVERGENCE_SETTLED_MS);
  expect(infos[2]?.[1]).toBe(200);
  expect(infos[2]?.[0]).toBeLessThanOrEqual(back + 2 * CONVERGENCE_SETTLED_MS);
  expect(infos).toHaveLength(3);
});

it("at info, a figure that stops moving out of sync is written after a window", () => {
  const { sched, report, at } = setup("info");
  report(200);
  sched.advance(50);
  report(150);
  sched.advance(3 * CONVERGENCE_SETTLED_MS);
  expect(at("info")).toEqual([
    [0, 200],
    [2 * CONVERGENCE_SETTLED_MS, 150],
  ]);
  // Quiet since: nothing more, and no timer left running.
  sched.advance(10 * CONVERGENCE_SETTLED_MS);
  expect(at("info")).toHaveLength(2);
});

it("writes the figures it holds when the service stops", () => {
  const { sched, log, report, at } = setup("debug");
  report(200);
  sched.advance(10);
  report(150);
  log.stop();
  expect(at("debug")).toEqual([
    [0, 200],
    [10, 150],
  ]);
  // The window under way had seen 200, already written.
  expect(at("info")).toEqual([[0, 200]]);
  sched.advance(5 * CONVERGENCE_SETTLED_MS);
  expect(at("debug")).toHaveLength(2);
  expect(at("info")).toHaveLength(1);
});
