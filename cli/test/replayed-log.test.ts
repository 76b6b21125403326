// The states the broker held when a standalone twins service subscribed: those other than the
// service held each at debug, one info line counting all of them once they stop for a second, and
// the count under way written at stop.
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { REPLAYED_QUIET_MS, ReplayedLog } from "../replayed-log.js";

function setup() {
  const scheduler = new FakeScheduler(0);
  const lines: { level: number; msg: string; reports?: number; configs?: number }[] = [];
  const logger = pino({ level: "debug" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { scheduler, lines, log: new ReplayedLog(logger, scheduler) };
}

it("writes each replayed state new to the service at debug and one info line counting them after a quiet second", () => {
  const { scheduler, lines, log } = setup();
  for (let i = 0; i < 3; i++) {
    log.stood("config");
    log.replayed("config", { node: `n-${i}`, follows: [] });
    log.stood("report");
    log.replayed("report", { node: `n-${i}`, on: true });
    scheduler.advance(REPLAYED_QUIET_MS - 1);
  }
  expect(lines.map((l) => [l.level, l.msg])).toEqual(
    Array.from({ length: 3 }, () => [
      [20, "config (replayed)"],
      [20, "report (replayed)"],
    ]).flat(),
  );
  scheduler.advance(1);
  expect(lines.at(-1)).toMatchObject({
    level: 30,
    reports: 3,
    configs: 3,
    msg: "the fleet's state as the service found it: 3 reports and 3 configs (the broker's copies, or a node's first report since); all new to the service (each at debug)",
  });
  scheduler.advance(60_000);
  expect(lines).toHaveLength(7);
});

it("counts the states that stood as the service held them: a broker restart that replayed every pairing is not `0 configs`", () => {
  const { scheduler, lines, log } = setup();
  // The broker restarted from its store: 3 configs and 3 reports replayed, one report newer than the twin's.
  for (let i = 0; i < 3; i++) {
    log.stood("config");
    log.stood("report");
  }
  log.replayed("report", { node: "n-1", on: true });
  scheduler.advance(REPLAYED_QUIET_MS);
  // It said "1 reports and 0 configs": the pairings the broker kept, read as lost.
  expect(lines.at(-1)).toMatchObject({
    level: 30,
    reports: 3,
    configs: 3,
    reportsChanged: 1,
    configsChanged: 0,
    msg: "the fleet's state as the service found it: 3 reports and 3 configs (the broker's copies, or a node's first report since); 1 report and 0 configs changed what the service held (each at debug)",
  });
  log.stood("config");
  log.flush();
  expect(lines.at(-1)?.msg).toBe(
    "the fleet's state as the service found it: 0 reports and 1 config (the broker's copies, or a node's first report since); none changed what the service held",
  );
});

it("writes the count under way when the service stops, and nothing when none came", () => {
  const { lines, log } = setup();
  log.flush();
  expect(lines).toHaveLength(0);
  log.stood("report");
  log.flush();
  expect(lines.at(-1)).toMatchObject({ level: 30, reports: 1, configs: 0 });
});
