// The quick MQTT reader and writer agree with mqtt-packet on every packet they take, and hand
// everything else back to the full parser.
import { generate, type Packet, parser } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import {
  isAckOfSubscription,
  publishFields,
  quickDecode,
  quickPuback,
  quickPublish,
  quickSuback,
  quickSubscribe,
  readPublish,
  readSubscribe,
} from "../mqtt-frames.js";

function parsed(bytes: Buffer): Packet {
  let out: Packet | undefined;
  const p = parser({ protocolVersion: 4 });
  p.on("packet", (pk: Packet) => {
    out = pk;
  });
  p.parse(bytes);
  if (!out) throw new Error("mqtt-packet did not parse it");
  return out;
}

describe("quick MQTT packets", () => {
  it("reads what mqtt-packet reads", () => {
    const long = "x".repeat(300);
    const packets: Packet[] = [
      {
        cmd: "publish",
        topic: "tf/report/n1",
        payload: Buffer.from("R1 1 42 n1"),
        qos: 0,
        retain: true,
        dup: false,
      },
      {
        cmd: "publish",
        topic: "tf/config/n2",
        payload: Buffer.from(long),
        qos: 1,
        retain: false,
        dup: true,
        messageId: 513,
      },
      { cmd: "publish", topic: "tf/état", payload: Buffer.alloc(0), qos: 0, retain: false, dup: false },
      { cmd: "puback", messageId: 65_535 },
      { cmd: "pingreq" },
      { cmd: "pingresp" },
      { cmd: "disconnect" },
    ];
    for (const pk of packets) {
      const bytes = generate(pk);
      const want = parsed(bytes) as unknown as Record<string, unknown>;
      const got = quickDecode(bytes) as unknown as Record<string, unknown>;
      const keys =
        pk.cmd === "publish" ? ["cmd", "topic", "qos", "retain", "dup", "messageId"] : ["cmd", "messageId"];
      for (const k of keys) {
        // mqtt-packet fills fields a packet does not have with null; the quick reader leaves them out.
        expect(got[k] ?? null, `${pk.cmd} ${k}`).toEqual(want[k] ?? null);
      }
      if (pk.cmd === "publish") expect(Buffer.compare(got.payload as Buffer, want.payload as Buffer)).toBe(0);
    }
  });

  it("leaves the rest, and anything malformed, to the full parser", () => {
    expect(quickDecode(generate({ cmd: "connack", returnCode: 0, sessionPresent: false }))).toBeUndefined();
    expect(quickDecode(generate({ cmd: "suback", messageId: 1, granted: [0] }))).toBeUndefined();
    const pub = generate({ cmd: "publish", topic: "a/b", payload: "x", qos: 0, retain: false, dup: false });
    expect(quickDecode(pub.subarray(0, pub.length - 1))).toBeUndefined(); // length says one byte more
    expect(quickDecode(Buffer.from([0x36, 0x03, 0x00, 0x01, 0x61]))).toBeUndefined(); // QoS 3
    expect(quickDecode(Buffer.from([0xc0, 0x01, 0x00]))).toBeUndefined(); // PINGREQ with a body
  });

  it("reads a PUBLISH in place as the quick reader does, and nothing else", () => {
    const f = publishFields();
    for (const pk of [
      { topic: "tf/report/n1", payload: "R1 1 42 n1", qos: 0, retain: true, dup: false },
      { topic: "tf/config/n2", payload: "é".repeat(200), qos: 1, retain: false, dup: true, messageId: 513 },
      { topic: "tf/état", payload: "", qos: 0, retain: false, dup: false },
    ] as const) {
      const bytes = generate({ cmd: "publish", ...pk });
      const quick = quickDecode(bytes);
      if (quick?.cmd !== "publish") throw new Error("the quick reader did not read it");
      expect(readPublish(bytes, f)).toBe(true);
      expect(f.topic).toBe(pk.topic);
      expect(f.qos).toBe(pk.qos);
      expect(f.messageId).toBe(quick.messageId);
      expect(bytes.toString("utf8", f.payloadAt)).toBe(pk.payload);
      expect(bytes.subarray(f.payloadAt)).toEqual(quick.payload);
    }
    const pub = generate({ cmd: "publish", topic: "a/b", payload: "x", qos: 0, retain: false, dup: false });
    for (const bytes of [
      pub.subarray(0, pub.length - 1),
      Buffer.from([0x36, 0x03, 0x00, 0x01, 0x61]),
      Buffer.from([0x30, 0x01, 0x00]),
      Buffer.from([0x30, 0x02, 0x00, 0x00]),
      generate({ cmd: "puback", messageId: 7 }),
      generate({ cmd: "pingresp" }),
    ]) {
      expect(readPublish(bytes, f)).toBe(false);
      expect(quickDecode(bytes)?.cmd).not.toBe("publish");
    }
  });

  it("writes a QoS 0 PUBLISH byte for byte as mqtt-packet does", () => {
    for (const [topic, payload, retain] of [
      ["tf/report/n1", "R1 1 42 n1", true],
      ["tf/x", "y".repeat(200), false],
      ["tf/é", Buffer.from([0, 255]), false],
    ] as const) {
      expect(quickPublish(topic, payload, retain)).toEqual(
        generate({ cmd: "publish", topic, payload, qos: 0, retain, dup: false }),
      );
    }
  });

  it("writes a QoS 1 PUBLISH and a PUBACK byte for byte as mqtt-packet does", () => {
    for (const [topic, payload, retain, messageId] of [
      ["tf/report/n1", "R1 1 42 n1", false, 1],
      ["tf/config/n2", "C1 3 n1,n3", true, 65_535],
      ["tf/x", "y".repeat(300), false, 256],
      ["tf/é", Buffer.from([0, 255]), true, 4660],
    ] as const) {
      expect(quickPublish(topic, payload, retain, messageId)).toEqual(
        generate({ cmd: "publish", topic, payload, qos: 1, retain, dup: false, messageId }),
      );
    }
    for (const messageId of [1, 255, 256, 65_535]) {
      expect(quickPuback(messageId)).toEqual(generate({ cmd: "puback", messageId }));
    }
  });

  it("writes SUBSCRIBE and SUBACK byte for byte as mqtt-packet does, and reads SUBSCRIBE as it does", () => {
    for (const [messageId, topic, qos] of [
      [1, "tf/report/n1", 0],
      [65_535, "tf/config/n2", 1],
      [256, `tf/${"é".repeat(70)}`, 1],
    ] as const) {
      const bytes = quickSubscribe(messageId, topic, qos);
      expect(bytes).toEqual(generate({ cmd: "subscribe", messageId, subscriptions: [{ topic, qos }] }));
      expect(readSubscribe(bytes)).toEqual({ messageId, subscriptions: [{ topic, qos }] });
    }
    const many = {
      messageId: 7,
      subscriptions: [
        { topic: "a/+", qos: 2 as const },
        { topic: "b", qos: 0 as const },
      ],
    };
    const manyBytes = generate({ cmd: "subscribe", ...many });
    expect(readSubscribe(manyBytes)).toEqual(many);
    expect((parsed(manyBytes) as { subscriptions: unknown }).subscriptions).toEqual(many.subscriptions);
    for (const granted of [[0], [1, 0, 2, 128], Array.from({ length: 130 }, (_, i) => i % 3)]) {
      expect(quickSuback(9, granted)).toEqual(generate({ cmd: "suback", messageId: 9, granted }));
    }
  });

  it("leaves any other SUBSCRIBE to the full parser, and knows a SUBACK or UNSUBACK when it sees one", () => {
    const sub = quickSubscribe(3, "a/b", 1);
    for (const bytes of [
      sub.subarray(0, sub.length - 1), // the length says one byte more
      Buffer.from([0x80, ...sub.subarray(1)]), // reserved header flags
      Buffer.from([...sub.subarray(0, sub.length - 1), 3]), // QoS 3
      Buffer.from([...sub.subarray(0, sub.length - 1), 0x41]), // reserved option bits
      Buffer.from([0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]), // an empty filter
      Buffer.from([0x82, 0x02, 0x00, 0x01]), // no filter
      generate({ cmd: "suback", messageId: 1, granted: [0] }),
    ]) {
      expect(readSubscribe(bytes)).toBeUndefined();
    }
    expect(isAckOfSubscription(generate({ cmd: "suback", messageId: 1, granted: [0, 1] }))).toBe(true);
    expect(isAckOfSubscription(generate({ cmd: "unsuback", messageId: 1, granted: [] }))).toBe(true);
    expect(isAckOfSubscription(Buffer.from([0x90, 0x03, 0x00, 0x01]))).toBe(false); // one byte short
    expect(isAckOfSubscription(generate({ cmd: "puback", messageId: 1 }))).toBe(false);
  });
});
