// The held question (protocol.md §6, "Which nodes a control server holds"): read back as written,
// malformed input told, and a fleet cut into questions that, with their worst answers, fit the
// protocol's 256-byte packet.
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import {
  encodeHeldAnswer,
  encodeHeldAsk,
  HELD_MAX_NUMBER,
  heldAnswerTopic,
  heldAsks,
  heldAskTopic,
  MAX_ID_LENGTH,
  MAX_PACKET_BYTES,
  MAX_PREFIX_LENGTH,
  NodeId,
  Prefix,
  readHeldAnswer,
  readHeldAsk,
} from "../index.js";

const p = Prefix("tf");
const b = (s: string) => Buffer.from(s, "latin1");
const ids = (n: number, width = 4) =>
  Array.from({ length: n }, (_, i) => NodeId(`n-${String(i).padStart(width, "0")}`));

const packetBytes = (topic: string, payload: string) =>
  mqttPacket.generate({
    cmd: "publish",
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    messageId: 65535,
    retain: false,
    dup: false,
  }).length;

describe("the held question and its answer", () => {
  it("has its topics under the control server's presence", () => {
    expect(heldAskTopic(p, "tf-twins-1")).toBe("tf/control/tf-twins-1/ask");
    expect(heldAnswerTopic(p, "tf-twins-1", "ab12")).toBe("tf/control/tf-twins-1/held/ab12");
  });

  it("reads back what it writes", () => {
    const ask = { token: "ab12", seq: 3, ids: ids(3) };
    expect(encodeHeldAsk(ask)).toBe("A1 ab12 3 n-0000 n-0001 n-0002");
    expect(readHeldAsk(b(encodeHeldAsk(ask)))).toEqual(ask);
    const answer = { seq: 3, maxNodes: 50, twins: 50, notHeld: [NodeId("n-0002")] };
    expect(encodeHeldAnswer(answer)).toBe("H1 3 50 50 n-0002");
    expect(readHeldAnswer(b(encodeHeldAnswer(answer)))).toEqual(answer);
    expect(readHeldAnswer(b("H1 0 200000 12"))).toEqual({ seq: 0, maxNodes: 200000, twins: 12, notHeld: [] });
  });

  it("tells what is wrong with a question, and reads no malformed answer", () => {
    expect(readHeldAsk(b("A2 t 0 n-1"))).toEqual({ bad: "not A1 <token> <seq> <node id>…" });
    expect(readHeldAsk(b("A1 t/x 0 n-1"))).toEqual({ bad: "its token is not 1-23 of A-Z a-z 0-9 _ -" });
    expect(readHeldAsk(b("A1 t 01 n-1"))).toEqual({ bad: "its seq is not a whole number up to 2147483647" });
    expect(readHeldAsk(b("A1 t 2147483648 n-1"))).toHaveProperty("bad");
    expect(readHeldAsk(b("A1 t 0"))).toEqual({ bad: "it names no node, or a malformed node id" });
    expect(readHeldAsk(b("A1 t 0 n-1  n-2"))).toHaveProperty("bad");
    expect(readHeldAsk(b(""))).toHaveProperty("bad");
    for (const bad of ["", "H1", "H1 0 1", "H1 x 1 1", "H1 0 1 1 bad!id", "R1 0 1 1"])
      expect(readHeldAnswer(b(bad))).toBeUndefined();
  });
});

describe("a fleet cut into questions", () => {
  it("asks about every node once, in order, in questions numbered from 0", () => {
    const fleet = ids(1000);
    const asks = heldAsks(p, "tf-twins-42f68359", "0123456789ab", fleet);
    expect(asks.flatMap((a) => a.ids)).toEqual(fleet);
    expect(asks.map((a) => a.seq)).toEqual(asks.map((_, i) => i));
    expect(asks.length).toBeGreaterThan(1);
    expect(heldAsks(p, "x", "t", [])).toEqual([]);
  });

  it("fits each question and its worst answer in 256 bytes, with the longest names", () => {
    const prefix = Prefix("p".repeat(MAX_PREFIX_LENGTH));
    const clientId = "c".repeat(64);
    const token = "t".repeat(23);
    const fleet = ids(500, MAX_ID_LENGTH - 2);
    const asks = heldAsks(prefix, clientId, token, fleet);
    expect(asks.flatMap((a) => a.ids)).toEqual(fleet);
    for (const a of asks) {
      expect(packetBytes(heldAskTopic(prefix, clientId), encodeHeldAsk(a))).toBeLessThanOrEqual(
        MAX_PACKET_BYTES,
      );
      const worst = { seq: a.seq, maxNodes: HELD_MAX_NUMBER, twins: HELD_MAX_NUMBER, notHeld: a.ids };
      expect(
        packetBytes(heldAnswerTopic(prefix, clientId, token), encodeHeldAnswer(worst)),
      ).toBeLessThanOrEqual(MAX_PACKET_BYTES);
    }
  });
});
