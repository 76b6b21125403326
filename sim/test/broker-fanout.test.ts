// A publish routed to several clients goes out behind one timer, in the order separate timers per
// client would give: after what was due at that instant before it, before what is set after it.
import { generate } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { quickDecode } from "../../node/mqtt-frames.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { MemoryBroker } from "../memory-broker.js";

describe("the in-memory broker's fan-out", () => {
  it("hands one publish to every subscriber with one timer, in order among the instant's other timers", () => {
    const sched = new FakeScheduler();
    const broker = new MemoryBroker(sched, { record: false, forwardDelayMs: 0.5 });
    const log: string[] = [];
    const wires = ["a", "b", "c"].map((id) => {
      const wire = broker.wire()({
        packet: (bytes) => {
          const pk = quickDecode(bytes);
          if (pk?.cmd === "publish") log.push(`${id}:${pk.payload.toString()}`);
        },
        closed: () => {},
      });
      wire.write(
        generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: id }),
      );
      wire.write(generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t/+", qos: 0 }] }));
      return wire;
    });
    sched.runUntil(10);
    expect(wires).toHaveLength(3);
    sched.at(10.5, () => log.push("before"));
    const pending = sched.pending;
    broker.publish("t/x", "1", { qos: 0 });
    expect(sched.pending - pending).toBe(1);
    sched.at(10.5, () => log.push("after"));
    broker.publish("t/y", "2", { qos: 0 });
    sched.runUntil(11);
    expect(log).toEqual(["before", "a:1", "b:1", "c:1", "after", "a:2", "b:2", "c:2"]);
  });
});
