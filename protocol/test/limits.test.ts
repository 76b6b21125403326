// Every message, with the longest names the grammar allows, fits PubSubClient's 256-byte packet.
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import {
  encode,
  MAX_FOLLOWS,
  MAX_ID_LENGTH,
  MAX_PACKET_BYTES,
  MAX_PREFIX_LENGTH,
  type Message,
  NodeId,
  Prefix,
  publishPacketBytes,
} from "../index.js";

const prefix = Prefix("p".repeat(MAX_PREFIX_LENGTH));
const id = (c: string) => NodeId(c.repeat(MAX_ID_LENGTH));
const longest = id("A");
const max = 4_294_967_295;

const worst: Message[] = [
  { kind: "report", node: longest, on: true, stamp: { counter: max, origin: id("B") } },
  {
    kind: "config",
    node: longest,
    version: max,
    sources: Array.from({ length: MAX_FOLLOWS }, (_, i) => id(String.fromCharCode(66 + i))),
  },
  { kind: "status", node: longest, online: true },
  { kind: "register", node: longest, nodeKind: "real", profile: "x".repeat(16), firmware: "9".repeat(12) },
  { kind: "state", node: longest, on: true, counter: max },
  { kind: "subscribe", node: longest, source: id("B") },
  { kind: "unsubscribe", node: longest, source: id("B") },
  { kind: "query" },
];

describe("packet size", () => {
  it.each(worst.map((m) => [m.kind, m] as const))("the largest %s fits at QoS 1", (_k, msg) => {
    const e = encode(prefix, msg);
    const bytes = mqttPacket.generate({
      cmd: "publish",
      topic: e.topic,
      payload: Buffer.from(e.payload),
      qos: 1,
      messageId: 65535,
      retain: e.retain,
      dup: false,
    });
    expect(bytes.length).toBeLessThanOrEqual(MAX_PACKET_BYTES);
    expect(publishPacketBytes(e.topic.length, e.payload.length, 1)).toBe(bytes.length);
  });

  it("counts the packet like mqtt-packet does, across the remaining-length boundary", () => {
    for (let n = 0; n < 400; n += 7) {
      for (const qos of [0, 1] as const) {
        const bytes = mqttPacket.generate({
          cmd: "publish",
          topic: "tf/report/A",
          payload: Buffer.alloc(n, 120),
          qos,
          messageId: qos ? 1 : undefined,
          retain: false,
          dup: false,
        });
        expect(publishPacketBytes(11, n, qos)).toBe(bytes.length);
      }
    }
  });
});
