/**
 * The twins service over an in-process wire to the in-memory broker, on a FakeScheduler: it
 * subscribes and holds its presence, sees a node register, writes an offline node's retained config
 * and has it acknowledged, is refused (naming the broker) when the broker is down, reconnects after a
 * broker restart and sees the node again, and leaves the presence cleared on close and to its will
 * on kill. Virtual time moves only as the test drives it; nothing waits on the wall clock.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { encode, NodeId, Prefix } from "../../protocol/index.js";
import { MemoryBroker } from "../../sim/memory-broker.js";
import { startTwins, type Twins } from "../service.js";

const prefix = Prefix("tf");
const n1 = NodeId("n-0001");
const n2 = NodeId("n-0002");

function setup() {
  const sched = new FakeScheduler(0, 1_700_000_000_000);
  const broker = new MemoryBroker(sched, { record: false, sessions: true, forwardDelayMs: 0.5 });
  return { sched, broker };
}

/** Runs virtual time 1 ms at a time, letting promise continuations run, until `p` settles. */
async function drive<T>(sched: FakeScheduler, p: Promise<T>, limitMs = 60_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  const end = sched.now() + limitMs;
  while (!done && sched.now() < end) {
    sched.advance(1);
    await hostTurn();
  }
  return p;
}

/** Runs virtual time for `ms`, letting continuations run as it goes. */
async function pass(sched: FakeScheduler, ms: number): Promise<void> {
  const end = sched.now() + ms;
  while (sched.now() < end) {
    sched.advance(1);
    await hostTurn();
  }
}

function open(sched: FakeScheduler, broker: MemoryBroker): Promise<Twins> {
  return startTwins({
    url: "memory://test",
    wire: broker.wire(),
    prefix,
    scheduler: sched,
    clientId: "tf-twins-test",
    reconnectPeriodMs: 500,
    connectTimeoutMs: 2000,
  });
}

function announce(broker: MemoryBroker, node: NodeId): void {
  const reg = encode(prefix, {
    kind: "register",
    node,
    nodeKind: "sim",
    profile: "uno-w5100",
    firmware: "1.0.0",
  });
  broker.publish(reg.topic, reg.payload, { qos: 0 });
  const st = encode(prefix, { kind: "status", node, online: true });
  broker.publish(st.topic, st.payload, { qos: 0, retain: true });
  const rep = encode(prefix, { kind: "report", node, on: true, stamp: { counter: 1, origin: node } });
  broker.publish(rep.topic, rep.payload, { qos: 0, retain: true });
}

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
