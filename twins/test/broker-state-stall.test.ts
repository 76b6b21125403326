// The twins service stopped (SIGSTOP, a paused VM) tells its lost connection as its own stall, not the
// broker's (docs/twins.md, "The service itself stopped").
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { logBrokerState } from "../broker-state-log.js";

function lines() {
  const out: string[] = [];
  const logger = pino({ level: "warn" }, { write: (l: string) => out.push(JSON.parse(l).msg) });
  return { out, logger };
}

describe("the twins service's broker lines after its own stall", () => {
  it("says the service did not run, when the loss and the return follow a stall", () => {
    const sched = new FakeScheduler(0);
    const watch = new StallWatch(sched);
    const { out, logger } = lines();
    const url = "mqtt://127.0.0.1:1883";
    sched.advance(10_000);
    sched.at(12_000, () => logBrokerState(logger, url, "lost", "up", 0, watch.explaining(sched.now())));
    sched.jump(25_000);
    sched.advance(1_100);
    logBrokerState(logger, url, "up", "lost", 26_100, watch.explaining(sched.now()));
    expect(out).toEqual([
      "twins: broker connection lost, reconnecting; the service itself did not run for 24.8 s (its host stopped or paused it): its own stall, not the broker's",
      "twins: broker connection back after 26.1 s; the service itself did not run for 24.8 s (its host stopped or paused it): its own stall, not the broker's",
    ]);
  });

  it("tells a broker's own outage as before", () => {
    const sched = new FakeScheduler(0);
    const watch = new StallWatch(sched);
    const { out, logger } = lines();
    sched.advance(30_000);
    logBrokerState(logger, "mqtt://b", "up", "lost", 7_000, watch.explaining(sched.now()));
    expect(out).toEqual(["twins: broker connection back after 7 s"]);
  });
});
