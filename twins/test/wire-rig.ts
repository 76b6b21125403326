/**
 * The twins service over an in-process wire to the in-memory broker, on a FakeScheduler, for the
 * tests that start it there: the broker (its forward delay chosen), virtual time driven 1 ms at a
 * time with promise continuations run between, the service opened, and a node announcing itself.
 */
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { encode, type NodeId, Prefix } from "../../protocol/index.js";
import { MemoryBroker } from "../../sim/memory-broker.js";
import { startTwins, type Twins } from "../service.js";

export const prefix = Prefix("tf");

/** A fake clock and an in-memory broker whose every packet arrives `forwardDelayMs` after it is sent. */
export function setup(forwardDelayMs = 0.5) {
  const sched = new FakeScheduler(0, 1_700_000_000_000);
  const broker = new MemoryBroker(sched, { record: false, sessions: true, forwardDelayMs });
  return { sched, broker };
}

/** Runs virtual time 1 ms at a time, letting promise continuations run, until `p` settles. */
export async function drive<T>(sched: FakeScheduler, p: Promise<T>, limitMs = 60_000): Promise<T> {
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
export async function pass(sched: FakeScheduler, ms: number): Promise<void> {
  const end = sched.now() + ms;
  while (sched.now() < end) {
    sched.advance(1);
    await hostTurn();
  }
}

/** The service on `broker`; `connectTimeoutMs` bounds its connect to its subscriptions made. */
export function open(sched: FakeScheduler, broker: MemoryBroker, connectTimeoutMs = 2000): Promise<Twins> {
  return startTwins({
    url: "memory://test",
    wire: broker.wire(),
    prefix,
    scheduler: sched,
    clientId: "tf-twins-test",
    reconnectPeriodMs: 500,
    connectTimeoutMs,
  });
}

export function announce(broker: MemoryBroker, node: NodeId): void {
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
