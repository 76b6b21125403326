/**
 * The service reads the nodes' topics at QoS 0, and cannot tell the QoS a message was written at. A
 * node reads its config, its report's echo and its commands at QoS 1: one written at QoS 1 reaches it
 * with a 2-byte packet id, and PubSubClient drops it when that makes it more than 256 bytes. So the
 * service judges those kinds' size at QoS 1, and the others' (what nodes publish and read at QoS 0)
 * at the QoS they arrived at.
 */
import { describe, expect, it } from "vitest";
import { MAX_PACKET_BYTES, Prefix, publishPacketBytes } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

/** A payload under `topic` that fits 256 bytes at QoS 0 and not at QoS 1. */
function boundaryPayload(topic: string, tag: string): string {
  let n = 0;
  while (publishPacketBytes(topic.length, n + 1, 0) <= MAX_PACKET_BYTES) n++;
  expect(publishPacketBytes(topic.length, n, 1)).toBeGreaterThan(MAX_PACKET_BYTES);
  return `${tag} 1 ${"B".repeat(n - tag.length - 3)}`;
}

function reasonOf(topic: string, payload: string): unknown {
  const r = new TwinRegistry(Prefix("tf"));
  const fx = r.receive(topic, payload, 0, 0);
  return fx.find((e) => e.type === "bad-input")?.input.reason;
}

describe("the size of a message, as its node reads it", () => {
  it("a config that fits at QoS 0 but not with the packet id, delivered at QoS 0, is too long", () => {
    const topic = "tf/config/A";
    const payload = boundaryPayload(topic, "C1");
    expect(publishPacketBytes(topic.length, payload.length, 0)).toBe(MAX_PACKET_BYTES);
    expect(reasonOf(topic, payload)).toBe("too-long");
  });

  it("so are a command and a report at that size", () => {
    for (const [kind, tag] of [
      ["state", "S1"],
      ["subscribe", "B1"],
      ["unsubscribe", "U1"],
      ["report", "R1"],
    ] as const) {
      const topic = `tf/${kind}/A`;
      expect(reasonOf(topic, boundaryPayload(topic, tag)), kind).toBe("too-long");
    }
  });

  it("what nodes publish and nodes read only at QoS 0 is judged at the QoS it arrived at", () => {
    for (const [kind, tag] of [
      ["status", "T1"],
      ["register", "G1"],
    ] as const) {
      const topic = `tf/${kind}/A`;
      // It fits as it came: the grammar rejects it, the size does not.
      expect(reasonOf(topic, boundaryPayload(topic, tag)), kind).toBe("bad-payload");
    }
  });

  it("the largest well-formed config a node publishes is not flagged", () => {
    const r = new TwinRegistry(Prefix("abcdefghijkl"));
    const id = "n".repeat(23);
    const sources = Array.from({ length: 8 }, (_, i) => `${i}`.padEnd(23, "s"));
    const topic = `abcdefghijkl/config/${id}`;
    const payload = ["C1", "4278190079", ...sources].join(" ");
    const fx = r.receive(topic, payload, 0, 0);
    expect(fx.filter((e) => e.type === "bad-input")).toEqual([]);
    expect(r.get(id as never)?.config).toMatchObject({ sources });
  });
});
