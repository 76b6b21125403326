/**
 * The look for reports the broker did not replay after a reconnect (twins/put-back.ts), when the
 * broker ran on (twins/broker-restart.ts): the service itself stopped (`kill -STOP`) long enough for
 * the broker to cut it, the nodes kept pressing, and the broker's replay, read again, paused past the
 * look's quiet time. The twins not replayed yet were put back over the nodes' newer reports, and the
 * echoes of those, older than the broker's copies replayed after them, put twins back again, each
 * over whatever the node had published meanwhile. A broker that ran on lost nothing: nothing goes
 * back for a report it has not replayed yet. One that restarted, or a replayed copy older than the
 * twin's, is put back as before.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { BrokerRestart, START_ID_TOPIC, UPTIME_TOPIC } from "../broker-restart.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { afterOwnPause } from "./put-back-rig.js";

const A = NodeId("A");
const B = NodeId("B");

describe("the reports a broker that ran on has not replayed yet", () => {
  it("are not put back when its replay pauses past the quiet time, nor the newer copies replayed after", () => {
    const x = afterOwnPause("run-1");
    expect(x.restart.ranOn()).toBe(true);
    // The replay begins, then pauses past the quiet time: the broker's copy of A, read as the
    // service subscribed, comes 2 s later, and A presses again just after.
    x.replay(100, "tf/report/B");
    x.replay(2_000, "tf/report/A");
    x.scheduler.at(x.scheduler.now() + 2_000, () => x.publish("tf/report/A", "R1 1 42 A"));
    x.scheduler.advance(60_000);
    // Before: A's 5@A went back over the broker's 40@A, then 40@A over the node's 42@A, then 42@A.
    expect(x.sent).toEqual([]);
    // The broker holds each node's newest report, and so do the twins.
    expect([x.stampOf("tf/report/A"), x.stampOf("tf/report/B")]).toEqual(["42@A", "41@B"]);
    expect(x.r.get(A)?.reported?.stamp).toEqual({ counter: 42, origin: A });
    expect(x.r.get(B)?.reported?.stamp).toEqual({ counter: 41, origin: B });
  });

  it("is still put back replayed older than the twin's (a node that rebooted meanwhile), by its stamp", () => {
    const x = afterOwnPause("run-1");
    x.held.set("tf/report/A", "R1 0 0 A"); // A rebooted to its power-on state while the service was stopped
    x.replay(100, "tf/report/A");
    x.replay(150, "tf/report/B");
    x.scheduler.advance(60_000);
    expect(x.sent[0]).toBe("A 5@A");
    expect(x.sent.every((s) => s === "A 5@A")).toBe(true);
    expect([x.stampOf("tf/report/A"), x.stampOf("tf/report/B")]).toEqual(["5@A", "41@B"]);
  });
});

describe("the reports a restarted broker did not replay", () => {
  it("are put back once the replay is over, as for a broker restarted empty", () => {
    const x = afterOwnPause("run-2");
    x.held.clear(); // an in-memory broker restarted empty
    expect(x.restart.ranOn()).toBe(false);
    x.scheduler.advance(REPLAY_SETTLE_MS + 1);
    expect(x.sent).toEqual(["A 5@A", "B 6@B"]);
    expect([x.stampOf("tf/report/A"), x.stampOf("tf/report/B")]).toEqual(["5@A", "6@B"]);
  });

  it("are not put back for a node heard online since: it synced against the broker's copy", () => {
    const x = afterOwnPause("run-2"); // a durable broker restarted on its store, its replay slow
    x.held.delete("tf/report/B"); // it died before storing B's report
    x.scheduler.advance(200);
    x.publish("tf/status/A", "T1 1");
    x.publish("tf/register/A", "G1 sim uno-w5100 1.0.0"); // A reconnected, and synced against 40@A
    x.scheduler.advance(REPLAY_SETTLE_MS + 1);
    expect(x.r.get(A)?.presence).toBe("online");
    expect(x.sent).toEqual(["B 6@B"]); // B's, lost and not heard, as before
    expect(x.stampOf("tf/report/A")).toBe("40@A");
  });
});

describe("whether the broker ran on (BrokerRestart.ranOn)", () => {
  it("is not told on a first connection with nothing to compare with, even as the start id comes again", () => {
    const restart = new BrokerRestart(new FakeScheduler(), () => {});
    restart.connected();
    restart.message(START_ID_TOPIC, Buffer.from("run-1"));
    restart.message(START_ID_TOPIC, Buffer.from("run-1"));
    expect(restart.ranOn()).toBeUndefined();
    restart.connected();
    expect(restart.ranOn()).toBeUndefined(); // nothing heard yet on this connection
    restart.message(START_ID_TOPIC, Buffer.from("run-1"));
    expect(restart.ranOn()).toBe(true);
    restart.connected();
    restart.message(START_ID_TOPIC, Buffer.from("run-2"));
    expect(restart.ranOn()).toBe(false);
  });

  it("compares with what the service before read, and with a Mosquitto's uptime", () => {
    const before = new BrokerRestart(new FakeScheduler(), () => {}, { before: { startId: "run-1" } });
    before.connected();
    before.message(START_ID_TOPIC, Buffer.from("run-1"));
    expect(before.ranOn()).toBe(true);

    const sched = new FakeScheduler();
    const mosquitto = new BrokerRestart(sched, () => {});
    mosquitto.connected();
    mosquitto.message(UPTIME_TOPIC, Buffer.from("100 seconds"));
    expect(mosquitto.ranOn()).toBeUndefined();
    sched.advance(90_000);
    mosquitto.connected();
    mosquitto.message(UPTIME_TOPIC, Buffer.from("185 seconds")); // a copy 5 s old
    expect(mosquitto.ranOn()).toBe(true);
    sched.advance(60_000);
    mosquitto.connected();
    mosquitto.message(UPTIME_TOPIC, Buffer.from("3 seconds"));
    expect(mosquitto.ranOn()).toBe(false);
  });
});
