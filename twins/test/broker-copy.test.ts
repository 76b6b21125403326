/**
 * What the broker holds for each node, as the twins service saw it since it last subscribed
 * (twins/broker-copy.ts): a report older than the twin's, or none, is put back; a node that
 * registers while the broker holds no config of it booted following nobody, and its pairing is
 * pending again. An in-memory broker restarted empty while every node lost its power left the fleet
 * following nobody, the twins showing the pairings confirmed and the nodes' pre-fault states as
 * current, and warning of every later press as `stale-report`.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import { PutBack } from "../put-back.js";
import { TwinRegistry } from "../registry.js";
import { REPLAY_SETTLE_MS, REPLAY_WAIT_MAX_MS, ReplayEnd } from "../replay-end.js";

const A = NodeId("A");
const B = NodeId("B");

/** A follows B, confirmed, and holds B's 5@B; the service then lost the broker and subscribed again. */
function afterBrokerRestart(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.brokerSession();
  r.receive("tf/status/A", "T1 1", 1, 0);
  r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 0);
  r.receive("tf/config/A", "C1 1 B", 1, 0);
  r.receive("tf/report/B", "R1 1 5 B", 0, 0);
  r.receive("tf/report/A", "R1 1 5 B", 0, 0);
  expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
  r.brokerSession();
  return r;
}

describe("the broker's copy of a node's report", () => {
  it("is put back when the broker replayed none, or replays or is written an older one", () => {
    const r = afterBrokerRestart();
    // Nothing replayed: both twins' reports are due.
    expect(r.putBacksDue()).toEqual([A, B]);
    // The broker replays B's (kept) and an older one of A's (it died before storing the newest).
    expect(r.receive("tf/report/B", "R1 1 5 B", 0, 1, true)).toEqual([]);
    expect(r.receive("tf/report/A", "R1 0 3 A", 0, 1, true)).toEqual([{ type: "put-back", node: A }]);
    expect(r.putBacksDue()).toEqual([A]);
    // The service's own put-back comes back: the broker holds the twin's.
    expect(r.receive("tf/report/A", "R1 1 5 B", 1, 2)).toEqual([]);
    expect(r.putBacksDue()).toEqual([]);
    // A rebooted A publishes its power-on state over it: the twin's goes back again; not bad input.
    expect(r.receive("tf/report/A", "R1 0 0 A", 0, 3)).toEqual([{ type: "put-back", node: A }]);
    expect(r.badInput().total).toBe(0);
    expect(r.get(A)).toMatchObject({ reported: { on: true, stamp: { counter: 5, origin: "B" } } });
  });

  it("is not put back for an older replay after a newer write, nor after the report was cleared", () => {
    const r = afterBrokerRestart();
    expect(r.receive("tf/report/A", "R1 0 6 A", 0, 1)).toMatchObject([{ type: "updated", node: A }]);
    // The replay of the broker's copy from before the write overtook it: the write is what it holds.
    expect(r.receive("tf/report/A", "R1 1 5 B", 0, 1, true)).toEqual([]);
    expect(r.putBacksDue()).toEqual([B]);
    // An operator cleared B's report: the twin forgets it too, and nothing goes back.
    r.receive("tf/report/B", "", 1, 2);
    expect(r.putBacksDue()).toEqual([]);
  });
});

describe("a node registering while the broker holds no config of it", () => {
  it("booted following nobody: its confirmed pairing is pending again and sent", () => {
    const r = afterBrokerRestart();
    // No config replayed, and the node published none before its register: it is at version 0. The
    // replay is under way (the config may come yet): judged once it is over.
    expect(r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1)).not.toContainEqual(
      expect.objectContaining({ type: "reconcile" }),
    );
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(r.replayOver()).toContainEqual({ type: "reconcile", node: A });
    expect(r.get(A)).toMatchObject({ pairing: "pending", follows: [], desired: { sources: ["B"] } });
    expect(r.get(B)?.followers).toEqual([]);
    // It answers the re-sent F1 with its config, version 1 again: the pairing is confirmed, not stale.
    r.receive("tf/config/A", "C1 1 B", 1, 2);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(r.badInput().total).toBe(0);
  });

  it("changes nothing when the broker replayed its config, or the node put its own back", () => {
    const replayed = afterBrokerRestart();
    replayed.receive("tf/config/A", "C1 1 B", 1, 1, true);
    expect(replayed.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1)).toEqual([
      { type: "registered", node: A, first: false, again: true },
    ]);
    expect(replayed.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    // A node that kept its RAM puts its config back before its register (protocol §5.1).
    const kept = afterBrokerRestart();
    kept.receive("tf/config/A", "C1 1 B", 1, 1);
    kept.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(kept.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
  });

  it("is not judged before the replay is over: a register that comes before the config's replay changes nothing", () => {
    // The nodes answer the query sent with the subscription while the broker still replays: A's
    // register came before its config. It was taken for a node following nobody, its pairing re-sent.
    const r = afterBrokerRestart();
    const fx = r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(fx).toEqual([{ type: "registered", node: A, first: false, again: true }]);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(r.get(B)?.followers).toEqual([A]);
    expect(r.receive("tf/config/A", "C1 1 B", 1, 1, true)).toEqual([]);
    expect(r.replayOver()).toEqual([]);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    // After the replay, a register with no config on the broker is judged at once, as before.
    r.brokerSession();
    r.replayOver();
    expect(r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 2)).toContainEqual({
      type: "reconcile",
      node: A,
    });
  });
});

describe("a node registering before a broker that ran on replayed its config", () => {
  it("changes nothing: the config is late, not lost, though the replay paused past the quiet time", () => {
    // A twins service stopped 90 s beside 1,500 nodes reconnected to a broker that ran on; the
    // broker's replay paused past the quiet time with most configs not sent yet, and the nodes'
    // answers to the query were taken for nodes that booted following nobody: 1,333 pairings re-sent
    // at once (F1) in one run; in another, on a loaded host, pairs late by up to 21.5 s meanwhile.
    const r = afterBrokerRestart();
    r.brokerSession(() => true);
    expect(r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1)).toEqual([
      { type: "registered", node: A, first: false, again: true },
    ]);
    expect(r.replayOver()).toEqual([]);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    // Another register after the replay was judged over, its config still on its way: the same.
    expect(r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 2)).toEqual([
      { type: "registered", node: A, first: false, again: true },
    ]);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(r.get(B)?.followers).toEqual([A]);
    r.receive("tf/config/A", "C1 1 B", 1, 3, true);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(r.badInput().total).toBe(0);
  });

  it("is judged as before from a broker that restarted: its config may be lost", () => {
    const r = afterBrokerRestart();
    r.brokerSession(() => false);
    r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 1);
    expect(r.replayOver()).toContainEqual({ type: "reconcile", node: A });
    expect(r.get(A)).toMatchObject({ pairing: "pending", follows: [] });
  });
});

describe("a config the broker holds older than the twin's", () => {
  /** A follows B and C at version 2, confirmed, then went offline; the broker came back on an older store. */
  function restoredOnOlderStore(): TwinRegistry {
    const r = afterBrokerRestart();
    r.receive("tf/status/A", "T1 1", 1, 1);
    r.receive("tf/config/A", "C1 2 B C", 1, 1);
    expect(r.get(A)).toMatchObject({
      pairing: "confirmed",
      follows: ["B", "C"],
      desired: { sources: ["B", "C"] },
    });
    r.receive("tf/status/A", "T1 0", 1, 2); // its will: away
    r.brokerSession();
    return r;
  }

  it("is told, and the pairing is pending and sent: a node booting from it follows the old sources", () => {
    const r = restoredOnOlderStore();
    // The broker on a data directory restored from a backup replays the config from before the pairing.
    const fx = r.receive("tf/config/A", "C1 1 B", 1, 3, true);
    expect(fx).toContainEqual({ type: "config-behind", node: A, version: 1, twin: 2 });
    expect(fx).toContainEqual({ type: "desired-changed", node: A });
    expect(r.badInput().total).toBe(0);
    expect(r.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["B", "C"] } });
    // A booted from that copy (its RAM lost): at version 1, following B alone, it registers.
    r.receive("tf/status/A", "T1 1", 1, 4);
    // Its register is reconciled (the service sends what a pending pairing lacks).
    expect(r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 4)).toContainEqual(
      expect.objectContaining({ type: "registered", node: A }),
    );
    expect(r.get(A)).toMatchObject({ pairing: "pending" });
    // Asked (U1 A), it answers with its config; then sent F1 C, it takes it: confirmed.
    r.receive("tf/config/A", "C1 1 B", 1, 5);
    expect(r.get(A)).toMatchObject({ pairing: "pending", follows: ["B"] });
    r.receive("tf/config/A", "C1 2 B C", 1, 6);
    expect(r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B", "C"] });
  });

  it("is bad input when written live, or replayed after a newer one was written since the subscription", () => {
    const live = restoredOnOlderStore();
    // Written live while A is away, it is the broker's copy now: stale, and the pairing sent again
    // (stale-config-broker.test.ts).
    const fx = live.receive("tf/config/A", "C1 1 B", 1, 3);
    expect(fx[0]).toMatchObject({ type: "bad-input", input: { reason: "stale-config" } });
    expect(fx).toContainEqual({ type: "reconcile", node: A });
    expect(live.get(A)).toMatchObject({ pairing: "pending", desired: { sources: ["B", "C"] } });
    const overtaken = restoredOnOlderStore();
    overtaken.receive("tf/config/A", "C1 2 B C", 1, 3);
    expect(overtaken.receive("tf/config/A", "C1 1 B", 1, 3, true)).toMatchObject([{ type: "bad-input" }]);
    expect(overtaken.get(A)).toMatchObject({ pairing: "confirmed" });
  });
});

describe("the look for reports the broker did not replay", () => {
  /**
   * The registry after the broker restart, a PutBack on a fake clock with the service's wait for the
   * replay's end (no marker: quiet alone), and what it sends. `putBack.all()` subscribes and looks.
   */
  function lookAfterRestart() {
    const r = afterBrokerRestart();
    const scheduler = new FakeScheduler();
    const sent: string[] = [];
    const told: number[] = [];
    const end = new ReplayEnd(scheduler, undefined, () => {});
    const look = new PutBack(
      r,
      { logger: pino({ level: "silent" }), passive: false, scheduler, prefix: Prefix("tf") },
      async (m) => {
        if (m.kind === "report") sent.push(`${m.node} ${m.stamp.counter}@${m.stamp.origin}`);
      },
      end,
      { emit: (_: "put-back", nodes: number) => told.push(nodes) },
    );
    const putBack = {
      all: () => {
        end.begin();
        look.all();
      },
      stop: () => {
        end.stop();
        look.stop();
      },
      one: (n: NodeId) => look.one(n),
    };
    /** A retained report replayed `atMs` after the subscription (an older one put back, as the service does). */
    const replay = (atMs: number, topic: string, payload: string) =>
      scheduler.at(atMs, () => {
        end.replayed();
        for (const e of r.receive(topic, payload, 0, atMs, true))
          if (e.type === "put-back") putBack.one(e.node);
      });
    return { r, scheduler, sent, putBack, replay, told };
  }

  it("waits for the replay that follows the SUBACK: the reports replayed late are not put back", () => {
    const { scheduler, sent, putBack, replay } = lookAfterRestart();
    putBack.all();
    // A durable broker sends its retained reports one by one, the last 750 ms after the SUBACK.
    replay(300, "tf/report/B", "R1 1 5 B");
    replay(750, "tf/report/A", "R1 1 5 B");
    scheduler.advance(REPLAY_SETTLE_MS + 750);
    expect(sent).toEqual([]);
    scheduler.advance(60_000);
    expect(sent).toEqual([]);
  });

  it("puts back what was not replayed once the replay is over, and at most after REPLAY_WAIT_MAX_MS", () => {
    const quiet = lookAfterRestart();
    quiet.putBack.all();
    quiet.replay(100, "tf/report/B", "R1 1 5 B");
    quiet.scheduler.advance(100 + REPLAY_SETTLE_MS - 1);
    expect(quiet.sent).toEqual([]);
    quiet.scheduler.advance(1);
    expect(quiet.sent).toEqual(["A 5@B"]);

    // A broker replaying other topics without a pause: the look ends at the bound.
    const busy = lookAfterRestart();
    busy.putBack.all();
    for (let t = 100; t < 20_000; t += 100) busy.replay(t, "tf/status/C", "T1 1");
    busy.scheduler.advance(REPLAY_WAIT_MAX_MS - 1);
    expect(busy.sent).toEqual([]);
    busy.scheduler.advance(REPLAY_SETTLE_MS);
    expect(busy.sent).toEqual(["A 5@B", "B 5@B"]);
  });

  it("tells once the look is over how many nodes' reports the broker no longer held: none, or older", () => {
    const { scheduler, sent, putBack, replay, told } = lookAfterRestart();
    putBack.all();
    replay(100, "tf/report/A", "R1 0 3 A"); // an older copy of A's (a store written before the newest)
    scheduler.advance(100 + REPLAY_SETTLE_MS);
    // A's at once, then both (A's own put-back not heard back here): two nodes, each counted once.
    expect(sent).toEqual(["A 5@B", "A 5@B", "B 5@B"]);
    expect(told).toEqual([2]);
    // A broker that held everything: nothing told.
    putBack.all();
    replay(200, "tf/report/A", "R1 1 5 B");
    replay(200, "tf/report/B", "R1 1 5 B");
    scheduler.advance(60_000);
    expect(told).toEqual([2]);
  });

  it("sends nothing once stopped (the service closed)", () => {
    const { scheduler, sent, putBack } = lookAfterRestart();
    putBack.all();
    putBack.stop();
    scheduler.advance(60_000);
    expect(sent).toEqual([]);
  });
});

describe("a report on a node whose config the service never saw", () => {
  const reasons = (r: TwinRegistry) =>
    Object.fromEntries(Object.entries(r.badInput().byReason).filter(([, n]) => n > 0));

  it("cannot be judged by its origin: believed, not counted as spoofed-origin", () => {
    // An in-memory broker restarted while the ring X→Y→Z→X was off; a control server with a store
    // put its reports back (the stamp went round the ring), but no config. A new service subscribes:
    // each node's first report since then stood before it (`replayed`).
    const r = new TwinRegistry(Prefix("tf"));
    r.brokerSession();
    expect(r.receive("tf/report/X", "R1 1 7 Z", 0, 0, true)).toEqual([
      { type: "updated", node: NodeId("X"), change: "report", replayed: true },
    ]);
    expect(r.get(NodeId("X"))?.reported?.stamp).toEqual({ counter: 7, origin: "Z" });
    expect(r.maxCounter).toBe(7); // the node adopts it at its sync (protocol §5.3): sets must beat it
    // Put back live by that control server while the node is offline, or online at config version 0
    // (it adopts it: vector report-put-back-by-a-control-server-is-adopted).
    expect(r.receive("tf/report/W", "R1 0 9 Z", 0, 1)).toEqual([
      { type: "updated", node: NodeId("W"), change: "report", replayed: true },
    ]);
    r.receive("tf/status/O", "T1 1", 0, 2);
    r.receive("tf/register/O", "G1 sim uno-w5100 1.0.0", 0, 2);
    expect(r.receive("tf/report/O", "R1 0 10 Z", 0, 2)).toEqual([
      { type: "updated", node: NodeId("O"), change: "report", replayed: true },
    ]);
    expect(reasons(r)).toEqual({});
  });

  it("is spoofed-origin once a config of the node was seen, replayed or live", () => {
    const r = new TwinRegistry(Prefix("tf"));
    r.brokerSession();
    // The broker replays N's config (N follows M), then a report on N from a node N never followed.
    r.receive("tf/config/N", "C1 1 M", 0, 0, true);
    // Judged once the replay is over: a config on its path could still come (twins/origin-wait.ts).
    expect(r.receive("tf/report/N", "R1 1 12 Q", 0, 0, true)).toEqual([]);
    expect(r.replayOver()).toMatchObject([
      { type: "bad-input", input: { reason: "spoofed-origin", node: "N" } },
      { type: "updated", node: "N" }, // shown, flagged: the twin had no state
    ]);
    expect(r.receive("tf/report/N", "R1 1 13 Q", 0, 1)).toMatchObject([
      { type: "bad-input", input: { reason: "spoofed-origin", node: "N" } },
    ]);
    // O's config arrives live, after an unjudged report: the next one is judged.
    r.receive("tf/report/O", "R1 1 14 Q", 0, 2, true);
    r.receive("tf/config/O", "C1 2 M", 0, 3);
    expect(r.receive("tf/report/O", "R1 1 15 Q", 0, 4)).toMatchObject([
      { type: "bad-input", input: { reason: "spoofed-origin", node: "O" } },
    ]);
    expect(reasons(r)).toEqual({ "spoofed-origin": 3 });
    expect(r.maxCounter).toBe(14);
  });

  it("holds a report whose path's configs the replay has not sent yet, and believes it once they came", () => {
    const r = new TwinRegistry(Prefix("tf"));
    r.brokerSession();
    // N follows M, M follows Q: N's config, then a report on N carrying Q's stamp, then M's config.
    r.receive("tf/config/N", "C1 1 M", 0, 0, true);
    expect(r.receive("tf/report/N", "R1 1 12 Q", 0, 1, true)).toEqual([]);
    expect(r.get(NodeId("N"))?.reported).toBeUndefined();
    r.receive("tf/config/M", "C1 1 Q", 0, 2, true);
    expect(r.replayOver()).toEqual([
      { type: "updated", node: NodeId("N"), change: "report", replayed: true },
    ]);
    expect(r.get(NodeId("N"))?.reported).toMatchObject({ on: true, stamp: { counter: 12, origin: "Q" } });
    expect(reasons(r)).toEqual({});
    expect(r.maxCounter).toBe(12);
    // Once the replay is over a report is judged as it comes.
    expect(r.receive("tf/report/N", "R1 0 13 X", 0, 3)).toMatchObject([
      { type: "bad-input", input: { reason: "spoofed-origin", node: "N" } },
    ]);
  });
});
