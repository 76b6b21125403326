/**
 * The twins service's line naming its own stall (twins/own-stall-log.ts): a stall that cut no
 * connection (kill -STOP for 8 s, its broker's keepalive not run out) was said nowhere, its minute
 * marked `down` with no line why. On a fake clock with the process's stall watch: a jump of the time
 * with no timer run is the stall; the line comes once, as the service runs again, and none after
 * the feed stops.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { fleetFeed } from "../convergence-feed.js";
import { followersReport } from "./reports.js";

type Link = (connected: boolean) => void;

/** A feed of a 4-node fleet whose broker link the test tells up or down. */
function feedOn(scheduler: FakeScheduler, stalls: StallWatch, logger: pino.Logger) {
  let link: Link = () => {};
  const registry = { size: 4, presenceOf: () => "online" as const };
  const owner = {
    convergence: () => followersReport(4),
    emit: () => true,
    on: (_: "broker", l: Link) => {
      link = l;
    },
  };
  const feed = fleetFeed({ scheduler, historyCapacity: 64, stalls, logger }, registry, 1, owner);
  return { feed, link: (up: boolean) => link(up) };
}

it("says the service's own stall once, as it runs again, with the minute it covers down", () => {
  const scheduler = new FakeScheduler(36_000_000);
  const stalls = new StallWatch(scheduler);
  const out: { level: number; msg: string; stalledS?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void out.push(JSON.parse(l)) });
  const { feed, link } = feedOn(scheduler, stalls, logger);
  link(true);
  feed.schedule();
  scheduler.advance(20_000);
  expect(out).toEqual([]);
  scheduler.jump(8_000); // kill -STOP for 8 s, then kill -CONT
  scheduler.advance(1_000);
  expect(out.map((l) => ({ level: l.level, msg: l.msg, stalledS: l.stalledS }))).toEqual([
    {
      level: 40,
      msg: "twins: the service itself did not run for 7.8 s (its host stopped or paused it, or its event loop was held): its own stall, not the fleet's, the broker's or its disk's; the history's minutes it covers are marked down (not running), and writes under way then are not judged stalled by it",
      stalledS: 7.8,
    },
  ]);
  expect(feed.minutes().map((m) => m.down === true)).toEqual([true]);
  feed.stop();
  scheduler.jump(8_000); // stopped: no more lines from it
  scheduler.advance(1_000);
  expect(out).toHaveLength(1);
});

it("leaves a stall to the broker link's lines while the link is down or connecting", () => {
  // The link's own lines name it then (`… the service itself did not run for 14.8 s while it
  // connected …`, twins/test/connect-stall.test.ts): a second line would say it twice.
  const scheduler = new FakeScheduler(36_000_000);
  const stalls = new StallWatch(scheduler);
  const out: { msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void out.push(JSON.parse(l)) });
  const { feed, link } = feedOn(scheduler, stalls, logger);
  feed.schedule();
  scheduler.advance(2_000);
  scheduler.jump(8_000); // not yet connected
  scheduler.advance(1_000);
  link(true);
  link(false); // lost
  scheduler.jump(8_000);
  scheduler.advance(1_000);
  expect(out).toEqual([]);
  link(true);
  scheduler.jump(8_000); // up: said
  scheduler.advance(1_000);
  expect(out.map((l) => l.msg.slice(0, 46))).toEqual(["twins: the service itself did not run for 7.8 "]);
  feed.stop();
});
