// The in-memory broker's side of a session: 16-bit packet ids per session however many QoS 1
// deliveries, a silent client dropped after 1.5 × keepalive with its will published, takeover by
// client id, and the forwarding delay of the profile on everything it sends.
import { generate } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { quickDecode } from "../../node/mqtt-frames.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { MemoryBroker } from "../memory-broker.js";

function client(broker: MemoryBroker, id: string, keepalive = 0, will?: string) {
  const got: { at: number; bytes: Buffer }[] = [];
  let closed = 0;
  const sched = (broker as unknown as { sched: FakeScheduler }).sched;
  const wire = broker.wire()({
    packet: (bytes) => got.push({ at: sched.now(), bytes }),
    closed: () => {
      closed++;
    },
  });
  wire.write(
    generate({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clean: true,
      clientId: id,
      keepalive,
      ...(will ? { will: { topic: will, payload: Buffer.from("S1 0"), qos: 1, retain: true } } : {}),
    }),
  );
  return { wire, got, closed: () => closed };
}

describe("the in-memory broker", () => {
  it("numbers QoS 1 deliveries 1 … 65535 per session, then round again", () => {
    const sched = new FakeScheduler();
    const broker = new MemoryBroker(sched, { record: false });
    const sub = client(broker, "sub");
    sub.wire.write(generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t/+", qos: 1 }] }));
    for (let i = 0; i < 65_540; i++) broker.publish("t/x", "p", { qos: 1 });
    sched.runUntil(1);
    const ids = sub.got.flatMap((g) => {
      const pk = quickDecode(g.bytes);
      return pk?.cmd === "publish" ? [pk.messageId] : [];
    });
    expect(ids.length).toBe(65_540);
    expect(ids.slice(65_533)).toEqual([65_534, 65_535, 1, 2, 3, 4, 5]);
  });

  it("drops a silent client after 1.5 × keepalive and publishes its will; adds its forwarding delay", () => {
    const sched = new FakeScheduler();
    const broker = new MemoryBroker(sched, { record: false, sessions: true, forwardDelayMs: 0.25 });
    const watcher = client(broker, "watcher");
    watcher.wire.write(
      generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "s/+", qos: 0 }] }),
    );
    const node = client(broker, "node", 10, "s/node");
    sched.runUntil(1);
    expect(node.got[0]?.at).toBe(0.25); // CONNACK, one forwarding delay after the CONNECT
    sched.runUntil(14_999);
    expect(node.closed()).toBe(0);
    sched.runUntil(15_001);
    expect(node.closed()).toBe(1);
    const will = watcher.got.map((g) => quickDecode(g.bytes)).find((p) => p?.cmd === "publish");
    expect(will).toMatchObject({ topic: "s/node" });
    expect(broker.retained.get("s/node")).toBe("S1 0");
  });

  it("ends a connection that sends a malformed packet, publishes its will, and serves the others", () => {
    const sched = new FakeScheduler();
    const broker = new MemoryBroker(sched, { record: false, sessions: true });
    const watcher = client(broker, "watcher");
    watcher.wire.write(
      generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "s/+", qos: 0 }] }),
    );
    const bad = client(broker, "bad", 0, "s/bad");
    const good = client(broker, "good");
    sched.runUntil(1);
    // A PUBLISH with QoS 3, which no MQTT version allows.
    bad.wire.write(Buffer.from([0x36, 0x05, 0x00, 0x03, 0x73, 0x2f, 0x62]));
    sched.runUntil(2);
    expect(bad.closed()).toBe(1);
    expect(broker.badPackets).toBe(1);
    expect(broker.connected).toBe(2);
    expect(broker.retained.get("s/bad")).toBe("S1 0");
    good.wire.write(
      generate({
        cmd: "publish",
        topic: "s/good",
        payload: Buffer.from("hi"),
        qos: 0,
        retain: false,
        dup: false,
      }),
    );
    bad.wire.write(
      generate({
        cmd: "publish",
        topic: "s/late",
        payload: Buffer.from("x"),
        qos: 0,
        retain: false,
        dup: false,
      }),
    );
    sched.runUntil(3);
    const topics = watcher.got
      .map((g) => quickDecode(g.bytes))
      .flatMap((p) => (p?.cmd === "publish" ? [p.topic] : []));
    expect(topics).toEqual(["s/bad", "s/good"]);
    expect(good.closed()).toBe(0);
  });

  it("closes the old connection when a client id connects again", () => {
    const sched = new FakeScheduler();
    const broker = new MemoryBroker(sched, { record: false });
    const first = client(broker, "n1");
    client(broker, "n1");
    sched.runUntil(1);
    expect(first.closed()).toBe(1);
    expect(broker.connected).toBe(1);
  });

  it("forwards, retains and acknowledges the same bytes whether or not it keeps what it received", () => {
    const frames = [
      generate({ cmd: "publish", topic: "r/n1", payload: "R1 1 42 n1", qos: 0, retain: true, dup: false }),
      generate({ cmd: "publish", topic: "r/n2", payload: "x".repeat(300), qos: 0, retain: false, dup: true }),
      generate({
        cmd: "publish",
        topic: "r/n1",
        payload: "C1 3",
        qos: 1,
        retain: true,
        dup: false,
        messageId: 9,
      }),
      generate({ cmd: "publish", topic: "r/n3", payload: "", qos: 0, retain: true, dup: false }),
      // A remaining length in two bytes where one would do, and a topic that is not valid UTF-8.
      Buffer.from([0x31, 0x87, 0x00, 0x00, 0x04, 0x72, 0x2f, 0x6e, 0x31, 0x61]),
      Buffer.from([0x30, 0x06, 0x00, 0x03, 0x72, 0x2f, 0xff, 0x62]),
    ];
    const run = (record: boolean) => {
      const sched = new FakeScheduler();
      const broker = new MemoryBroker(sched, { record });
      broker.publish("r/n3", "old", { retain: true });
      const sub = client(broker, "sub");
      sub.wire.write(generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "r/+", qos: 0 }] }));
      const subOne = client(broker, "sub1");
      subOne.wire.write(
        generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "r/n1", qos: 1 }] }),
      );
      const pub = client(broker, "pub");
      sched.runUntil(1);
      for (const f of frames) pub.wire.write(f);
      sched.runUntil(2);
      return { sub: sub.got, subOne: subOne.got, pub: pub.got, retained: [...broker.retained] };
    };
    const kept = run(true);
    const inPlace = run(false);
    expect(inPlace).toEqual(kept);
    expect(kept.sub.length).toBe(9); // CONNACK, SUBACK, the retained "old", then the six publishes
    expect(kept.retained).toEqual([["r/n1", "a"]]);
    // Forwarded as written anew from the decoded topic, the two-byte length as one byte.
    expect(kept.sub.at(-1)?.bytes).toEqual(
      Buffer.from([0x30, 0x08, 0x00, 0x05, 0x72, 0x2f, 0xef, 0xbf, 0xbd, 0x62]),
    );
    expect(kept.sub.at(-2)?.bytes).toEqual(
      Buffer.from([0x30, 0x07, 0x00, 0x04, 0x72, 0x2f, 0x6e, 0x31, 0x61]),
    );
  });
});
