/**
 * A twins service stopped (SIGSTOP, a paused VM) while it connects: the connection's timer runs out
 * when it runs again, before it could read the broker's answer. That is its own stall, not a broker
 * or a network that did not answer (docs/twins.md, "The service itself stopped"). Real sockets on
 * port 0: a server that holds the first connection unanswered (the service stopped before it read the
 * answer), then a broker; the service's clock is a FakeScheduler, jumped as a stopped host's is.
 */
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { startTwins } from "../service.js";
import { brokerOn, cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly stalledS?: number;
}

/** A broker whose first `held` connections are left unanswered, then answered as aedes does. */
const slowToAnswer = (held: number) => brokerOn(cleanup, 0, { held });

async function twinsOn(url: string, sched: FakeScheduler, stalls: StallWatch) {
  const { logger, lines } = loggedLines<Line>("info");
  const twins = await startTwins({
    url,
    scheduler: sched,
    stalls,
    logger,
    waitForBroker: true,
    connectTimeoutMs: 300,
    reconnectPeriodMs: 50,
    probe: false,
  });
  cleanup.push(() => twins.close());
  return { twins, warned: () => lines.filter((l) => l.level >= 40) };
}

it("stopped while it connects: its own stall, not the network's, and the wait's line says how much was", async () => {
  const broker = await slowToAnswer(1);
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const { twins, warned } = await twinsOn(broker.url, sched, stalls);
  await when(() => broker.heldNow() === 1);
  // The service did not run for 15 s while its first connection waited for the CONNACK.
  sched.jump(15_000);
  await twins.reached;
  expect(warned().map((l) => l.msg)).toEqual([
    `twins: no answer yet from the broker at ${broker.url}, but the service itself did not run for 14.8 s while it connected (its host stopped or paused it): its own stall, not the broker's or the network's; trying again every 0.1 s until it answers`,
    `twins: reached the broker at ${broker.url} after waiting 15 s, 14.8 s of it the service's own stall (its host stopped or paused it), not the broker's`,
  ]);
  expect(warned()[1]?.stalledS).toBe(14.8);
});

it("a broker that does not answer, with no stall, is told as before", async () => {
  const broker = await slowToAnswer(1);
  const sched = new FakeScheduler(0);
  const { twins, warned } = await twinsOn(broker.url, sched, new StallWatch(sched));
  await twins.reached;
  expect(warned().map((l) => l.msg)).toEqual([
    `twins: cannot reach the broker at ${broker.url}: no answer (CONNACK) within 300 ms; trying again every 0.1 s until it answers`,
    `twins: reached the broker at ${broker.url} after waiting 0 s`,
  ]);
});
