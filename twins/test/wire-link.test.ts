/**
 * The twins service over an in-process wire to the in-memory broker, on a FakeScheduler: it
 * subscribes and holds its presence, sees a node register, writes an offline node's retained config
 * and has it acknowledged, is refused (naming the broker) when the broker is down, reconnects after a
 * broker restart and sees the node again, and leaves the presence cleared on close and to its will
 * on kill. Virtual time moves only as the test drives it; nothing waits on the wall clock.
 */
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { announce, drive, open, pass, setup } from "./wire-rig.js";

const n1 = NodeId("n-0001");
const n2 = NodeId("n-0002");

describe("the twins service on an in-memory broker", () => {
  it("connects, holds its presence, registers a node and writes an offline node's config", async () => {
    const { sched, broker } = setup();
    const twins = await drive(sched, open(sched, broker));
    expect(broker.retained.has("tf/control/tf-twins-test")).toBe(true);
    announce(broker, n1);
    await pass(sched, 10);
    expect(twins.get(n1)).toMatchObject({ kind: "sim", presence: "online" });
    // n-0002 never showed up: its pairing goes out as a retained config, acknowledged by the broker.
    await drive(sched, twins.pair(n2, n1));
    expect(broker.retained.get("tf/config/n-0002")).toBe("C1 1 n-0001");
    await drive(sched, twins.close());
    expect(broker.retained.has("tf/control/tf-twins-test")).toBe(false);
    expect(broker.connected).toBe(0);
  });

  it("is refused, naming the broker, when the broker is down", async () => {
    const { sched, broker } = setup();
    broker.kill();
    await expect(drive(sched, open(sched, broker))).rejects.toThrow(
      "cannot reach the broker at memory://test: connection refused",
    );
  });

  it("reconnects after a broker restart and sees the node again; a kill leaves its will", async () => {
    const { sched, broker } = setup();
    const twins = await drive(sched, open(sched, broker));
    const told: boolean[] = [];
    twins.on("broker", (up) => told.push(up));
    announce(broker, n1);
    await pass(sched, 10);
    broker.kill();
    await pass(sched, 1200);
    expect(broker.connected).toBe(0);
    // Told once when it went, whatever the failed reconnects in between.
    expect(told).toEqual([false]);
    broker.restart();
    await pass(sched, 600);
    expect(broker.connected).toBe(1);
    expect(told).toEqual([false, true]);
    // Subscribed again: a node announcing itself after the restart is seen.
    announce(broker, n2);
    await pass(sched, 10);
    expect(twins.get(n2)).toMatchObject({ kind: "sim", presence: "online" });
    expect(broker.retained.has("tf/control/tf-twins-test")).toBe(true);
    await drive(sched, twins.kill());
    await pass(sched, 5);
    // No goodbye: the broker published the will, an empty retained presence, which clears it.
    expect(broker.retained.has("tf/control/tf-twins-test")).toBe(false);
    expect(broker.connected).toBe(0);
  });
});
