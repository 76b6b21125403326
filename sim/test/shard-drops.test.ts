/**
 * What a shard's nodes dropped of what the broker sent them reaches its totals (sim/shard.ts,
 * `finish`), by reason: the core's drops and the sketch's refusals, as the report carries them.
 */
import { describe, expect, it } from "vitest";
import { NO_LOSS } from "../../node/loss.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { MemoryBroker } from "../memory-broker.js";
import { Shard } from "../shard.js";
import { UNO } from "./node/helpers.js";

describe("a shard's totals", () => {
  it("count the messages its nodes dropped, by reason", () => {
    const sched = new FakeScheduler();
    const broker = new MemoryBroker(sched);
    const ids = [NodeId("A"), NodeId("B")];
    const task = { shard: 0, ids, bootAt: [0, 0], prefix: "tf", profile: UNO, seed: "t", loss: NO_LOSS };
    const shard = new Shard(task, sched, broker.wire(), () => {});
    sched.runUntil(3000);
    expect([...shard.nodes.values()].every((n) => n.connected)).toBe(true);
    // A set command no node can read, twice to A and once to B.
    broker.publish("tf/state/A", "S1 x");
    broker.publish("tf/state/A", "S1 x");
    broker.publish("tf/state/B", "S1 x");
    sched.runUntil(4000);
    const { link } = shard.finish();
    expect(link.drops).toEqual({ "bad-payload": 3 });
  });
});
