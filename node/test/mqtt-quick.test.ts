// The quick MQTT reader and writer agree with mqtt-packet on every packet they take, and hand
// everything else back to the full parser.
import { generate, type Packet, parser } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { publishFields, quickDecode, quickPuback, quickPublish, readPublish } from "../mqtt-frames.js";

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
});
