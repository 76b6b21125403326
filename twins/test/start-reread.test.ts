/**
 * The service's first read of the broker's state at its start, from a broker slow to answer (a loaded
 * host: each packet 600 ms on its way), on a fake clock. The replay's end was judged 500 ms after the
 * CONNACK, with no retained message yet, before the SUBACKs and the replay behind them: the first
 * point measured was the service's empty view (0 followers known, none online), and the share then
 * followed the view filling in, unheld, as a dip of a fleet in sync. The end is now judged from the
 * last SUBACK: the first point is the fleet's share, all the start's reads in.
 */
import { describe, expect, it } from "vitest";
import { encode, type Message, NodeId } from "../../protocol/index.js";
import type { MemoryBroker } from "../../sim/memory-broker.js";
import { drive, open, pass, prefix, setup } from "./wire-rig.js";

const S = NodeId("S");
const followers = [NodeId("F1"), NodeId("F2")];

/** What the broker holds of a fleet in sync: S pressed (5@S), F1 and F2 following it and holding 5@S. */
function inSync(broker: MemoryBroker): void {
  const retained = (m: Message) => {
    const { topic, payload } = encode(prefix, m);
    broker.publish(topic, payload, { qos: 0, retain: true });
  };
  for (const node of [S, ...followers]) {
    retained({ kind: "status", node, online: true });
    retained({ kind: "report", node, on: true, stamp: { counter: 5, origin: S } });
  }
  for (const node of followers) retained({ kind: "config", node, version: 1, sources: [S] });
}

describe("the share at the service's start, from a broker slow to answer", () => {
  it("first measures the fleet's share once every read of the start is in, not the view still empty", async () => {
    const { sched, broker } = setup(600);
    inSync(broker);
    const twins = await drive(sched, open(sched, broker, 10_000));
    await pass(sched, 5_000);
    const points = twins.history().map(({ t: _t, ...p }) => p);
    expect(points).toEqual([{ fraction: 1, inSync: 2, known: 2, online: 2 }]);
    expect(twins.convergence()).toMatchObject({ fraction: 1, inSync: 2, known: 2 });
    await drive(sched, twins.kill());
  });
});
