/**
 * A broker that closes each new connection at once (its open-files or connection limit, a banned
 * address): PubSubClient still waits its socket timeout for a CONNACK and fails as it would against
 * a broker that never answers, but the node's failure says the broker closed it at once, so that a
 * run can tell it while it happens (fleet/closed-at-once-live.ts). One that never answers does not.
 */
import { expect, it } from "vitest";
import type { NodeEvent } from "../../../node/metrics.js";
import { FakeScheduler } from "../../../node/scheduler.js";
import { SimNode } from "../../../node/sim-node.js";
import type { WireFactory } from "../../../node/wire.js";
import { UNO } from "./helpers.js";

/** A broker's host that accepts each connection, then says nothing (`close`: closes it at once). */
function broker(sched: FakeScheduler, close: boolean): WireFactory {
  return (h) => {
    if (close) sched.at(sched.now() + 1, () => h.closed());
    return { write: () => {}, abandon: () => {}, destroy: () => {} };
  };
}

function failures(close: boolean): NodeEvent[] {
  const sched = new FakeScheduler();
  const events: NodeEvent[] = [];
  const n = new SimNode({
    id: "A",
    seed: "test",
    profile: UNO,
    sched,
    wire: broker(sched, close),
    sink: (e) => events.push(e),
  });
  n.start();
  sched.runUntil(40_000);
  return events.filter((e) => e.type === "connect-failed");
}

it("marks a connack-timeout whose connection the broker closed at once", () => {
  const failed = failures(true);
  expect(failed.length).toBeGreaterThan(0);
  for (const e of failed) expect(e).toMatchObject({ reason: "connack-timeout", closedAtOnce: true });
});

it("does not mark one the broker held open unanswered", () => {
  const failed = failures(false);
  expect(failed.length).toBeGreaterThan(0);
  for (const e of failed) {
    expect(e).toMatchObject({ reason: "connack-timeout" });
    expect(e).not.toHaveProperty("closedAtOnce");
  }
});
