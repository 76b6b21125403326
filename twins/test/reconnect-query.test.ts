/**
 * The query (`Q1`) at a reconnect of the twins service (twins/reconnect-query.ts). Each time the
 * service's connection came back (its own stop, a network blip, its keepalive cut) it queried, and
 * every node of the fleet answered at once with its register and report, on top of the broker's
 * replay of their retained state: with 1,500 nodes, a quarter to two thirds of the pairs pressed in
 * the 10 s after were later than 1 s. A broker that ran on replays all a query's answers would tell,
 * but the register of a node that came online while the service was away: the query goes then only,
 * once the replay is over. A first connection, a restarted broker, and a passive observer told to
 * query on reconnecting, query as before. On the fake clock, with the service's registry and its
 * judge of the broker's restarts, as the service wires them.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import { BrokerRestart, START_ID_TOPIC } from "../broker-restart.js";
import { connectQueryOf, RAN_ON_LINE } from "../reconnect-query.js";
import { TwinRegistry } from "../registry.js";
import { REPLAY_SETTLE_MS, REPLAY_WAIT_MAX_MS, ReplayEnd } from "../replay-end.js";
import { loggedLines } from "./own-broker.js";

function rig(opts: { passive?: boolean; queryOnReconnect?: boolean } = {}) {
  const scheduler = new FakeScheduler();
  const registry = new TwinRegistry(Prefix("tf"));
  const restart = new BrokerRestart(scheduler, () => {});
  const { logger, lines } = loggedLines("info");
  const replayEnd = new ReplayEnd(scheduler, undefined, () => {}); // no marker: the quiet time alone
  const queries: number[] = []; // when each query was sent
  const query = async () => void queries.push(scheduler.now());
  const site = {
    url: "mqtt://broker",
    prefix: "tf",
    passive: false,
    queryOnReconnect: false,
    queryOnConnect: true,
  };
  const q = connectQueryOf({ ...site, ...opts, scheduler, logger }, { restart }, registry, replayEnd, query);
  let again = false;
  /** The broker replays a retained message `afterMs` from now, as the service would read it. */
  const replay = (afterMs: number, topic: string, payload: string) =>
    scheduler.at(scheduler.now() + afterMs, () => {
      replayEnd.replayed();
      registry.receive(topic, payload, 0, scheduler.now(), true);
    });
  /** The service (re)connects to the broker whose start id is `startId`, subscribes, and is ready. */
  const connect = async (startId: string) => {
    restart.connected();
    registry.brokerSession();
    restart.message(START_ID_TOPIC, Buffer.from(startId));
    replayEnd.begin(); // the last SUBACK
    await q.connected(again);
    again = true;
  };
  const live = (topic: string, payload: string) => registry.receive(topic, payload, 0, scheduler.now());
  const msgs = () => lines.map((l) => l.msg);
  return { scheduler, registry, queries, connect, replay, live, msgs };
}

/** A fleet of A (online) and B (offline, its will heard) through a first connection, then 60 s away. */
async function heardThenAway(opts?: Parameters<typeof rig>[0]) {
  const x = rig(opts);
  await x.connect("run-1");
  x.live("tf/status/A", "T1 1");
  x.live("tf/register/A", "G1 sim uno-w5100 1.0.0");
  x.live("tf/status/B", "T1 1");
  x.live("tf/register/B", "G1 sim uno-w5100 1.0.0");
  x.live("tf/status/B", "T1 0");
  x.scheduler.advance(60_000);
  return x;
}

describe("the query at a reconnect of the twins service", () => {
  it("is sent at the first connection", async () => {
    const x = rig();
    await x.connect("run-1");
    expect(x.queries).toEqual([0]);
    expect(x.msgs()).toEqual(["twins: connected and queried"]);
  });

  it("is not sent again to a broker that ran on, whose replay tells every node", async () => {
    const x = await heardThenAway();
    const at = x.scheduler.now();
    await x.connect("run-1");
    x.replay(10, "tf/status/A", "T1 1");
    x.replay(20, "tf/status/B", "T1 0");
    x.replay(30, "tf/report/A", "R1 1 5 A");
    x.scheduler.advance(60_000);
    // Before: a second query at the reconnect, which every live node answered at once.
    expect(x.queries).toEqual([0]);
    expect(x.msgs().slice(1)).toEqual([RAN_ON_LINE]);
    expect(x.registry.get(NodeId("A"))?.presence).toBe("online");
    expect(at).toBe(60_000);
  });

  it("is sent once the replay is over when a node came online while the service was away", async () => {
    const x = await heardThenAway();
    await x.connect("run-1");
    const at = x.scheduler.now();
    // B came back while the service was away (its status T1 1), and C is new: neither registered since.
    x.replay(10, "tf/status/A", "T1 1");
    x.replay(20, "tf/status/B", "T1 1");
    x.replay(30, "tf/status/C", "T1 1");
    x.scheduler.advance(60_000);
    expect(x.queries).toEqual([0, at + 30 + REPLAY_SETTLE_MS]); // one query, after the replay's quiet time
    expect(x.msgs().at(-1)).toContain(
      "2 node(s) came online while the service was away and have not registered since (B, C): querying",
    );
  });

  it("is sent for a node whose status a replay that paused past its quiet time brought later", async () => {
    const x = await heardThenAway();
    await x.connect("run-1");
    const at = x.scheduler.now();
    x.replay(10, "tf/status/A", "T1 1");
    x.replay(3_000, "tf/status/B", "T1 1"); // the replay paused 3 s: B came back while the service was away
    x.scheduler.advance(60_000);
    expect(x.queries).toEqual([0, at + REPLAY_WAIT_MAX_MS]); // looked at again at the replay's longest wait
  });

  it("is sent at once to a restarted broker (every node reconnects to it, and registers, anyway)", async () => {
    const x = await heardThenAway();
    const at = x.scheduler.now();
    await x.connect("run-2");
    expect(x.queries).toEqual([0, at]);
    x.scheduler.advance(60_000);
    expect(x.queries).toHaveLength(2);
  });

  it("is sent at once by a passive observer told to query on reconnecting: it counts registers", async () => {
    const x = await heardThenAway({ passive: true, queryOnReconnect: true });
    expect(x.queries).toEqual([]); // none at its first connection
    const at = x.scheduler.now();
    await x.connect("run-1");
    expect(x.queries).toEqual([at]);
  });
});
