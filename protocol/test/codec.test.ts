// The payload grammar: round trips for every kind, and a typed rejection for malformed input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DROP_REASONS,
  decode,
  encode,
  isProtocolError,
  type Message,
  NodeId,
  Prefix,
  ProtocolError,
} from "../index.js";

const p = Prefix("tf");
const A = NodeId("A");
const B = NodeId("node-B_2");

const samples: Message[] = [
  { kind: "report", node: A, on: true, stamp: { counter: 42, origin: B } },
  { kind: "report", node: A, on: false, stamp: { counter: 0, origin: A } },
  { kind: "config", node: A, version: 3, sources: [B, NodeId("C")] },
  { kind: "config", node: A, version: 0, sources: [] },
  { kind: "status", node: A, online: false },
  { kind: "register", node: A, nodeKind: "real", profile: "uno-w5100", firmware: "1.0.0" },
  { kind: "state", node: A, on: true, counter: 4_294_967_295 },
  { kind: "subscribe", node: A, source: B },
  { kind: "unsubscribe", node: A, source: B },
  { kind: "query" },
];

describe("encode/decode", () => {
  it.each(samples.map((m) => [m.kind, m] as const))("round-trips a %s message", (_kind, msg) => {
    const e = encode(p, msg);
    expect(decode(p, e.topic, e.payload, e.qos)).toEqual(msg);
    expect(decode(p, e.topic, Buffer.from(e.payload), e.qos)).toEqual(msg);
    // A plain Uint8Array, and one viewing the middle of a larger buffer: only its own bytes count.
    const bytes = Buffer.from(`xx${e.payload}yy`, "latin1");
    const middle = new Uint8Array(bytes.buffer, bytes.byteOffset + 2, bytes.length - 4);
    expect(decode(p, e.topic, middle, e.qos)).toEqual(msg);
    expect(decode(p, e.topic, Uint8Array.from(Buffer.from(e.payload)), e.qos)).toEqual(msg);
  });

  it("writes the documented wire format", () => {
    expect(encode(p, samples[0] as Message)).toEqual({
      topic: "tf/report/A",
      payload: "R1 1 42 node-B_2",
      retain: true,
      qos: 0,
    });
    expect(encode(p, { kind: "query" })).toEqual({ topic: "tf/query", payload: "Q1", retain: false, qos: 1 });
    expect(encode(p, samples[6] as Message).payload).toBe("S1 1 4294967295");
  });
});

describe("rejections", () => {
  const cases: [string, string, string, (typeof DROP_REASONS)[number], RegExp][] = [
    ["wrong prefix", "xx/report/A", "R1 1 1 A", "bad-topic", /not under prefix "tf"/],
    ["unknown action", "tf/blink/A", "R1 1 1 A", "bad-topic", /known action/],
    ["bad id in topic", "tf/report/A+B", "R1 1 1 A", "bad-id", /malformed node id/],
    ["bad id in payload", "tf/report/A", "R1 1 1 A.B", "bad-id", /malformed node id "A.B"/],
    ["wrong version", "tf/report/A", "R2 1 1 A", "wrong-version", /version 2, expected 1/],
    ["wrong tag", "tf/report/A", "S1 1 1 A", "bad-payload", /must start with the tag R1/],
    ["missing field", "tf/report/A", "R1 1 1", "bad-payload", /needs 3 fields after the tag, has 2/],
    ["value", "tf/state/A", "S1 2 1", "bad-payload", /value must be 0 or 1/],
    ["leading zero", "tf/state/A", "S1 1 01", "bad-payload", /counter must be/],
    ["counter overflow", "tf/state/A", "S1 1 4294967296", "bad-payload", /counter must be/],
    ["double space", "tf/state/A", "S1  1 1", "bad-payload", /single spaces/],
    ["non-ASCII", "tf/state/A", "S1 1 1é", "bad-payload", /printable ASCII/],
    ["config repeats", "tf/config/A", "C1 1 B B", "bad-payload", /repeats a source/],
    ["config self", "tf/config/A", "C1 1 A", "bad-payload", /lists the node itself/],
    ["config too many", "tf/config/A", "C1 1 B C D E F G H I J", "bad-payload", /at most 8 sources/],
    ["register kind", "tf/register/A", "G1 robot uno 1", "bad-payload", /kind must be real\|sim\|host/],
    ["oversized", "tf/report/A", `R1 1 1 A ${"x".repeat(300)}`, "too-long", /exceeds PubSubClient's 256/],
  ];
  it.each(cases)("%s", (_name, topic, payload, reason, message) => {
    let err: unknown;
    try {
      decode(p, topic, payload);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).reason).toBe(reason);
    expect((err as ProtocolError).message).toMatch(message);
  });

  it("never throws anything but a ProtocolError, whatever the bytes", () => {
    const segment = fc.oneof(
      fc.constantFrom("tf", "report", "state", "config", "query", "A", "B", "+", ""),
      fc.string(),
    );
    const topic = fc.array(segment, { minLength: 0, maxLength: 5 }).map((s) => s.join("/"));
    const token = fc.oneof(
      fc.constantFrom("R1", "S1", "C1", "G1", "F1", "U1", "Q1", "T1", "R2", "0", "1", "A", "4294967295", ""),
      fc.nat().map(String),
      fc.string({ maxLength: 30 }),
    );
    const payload = fc.oneof(
      fc.array(token, { maxLength: 12 }).map((t) => t.join(" ")),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")),
    );
    fc.assert(
      fc.property(topic, payload, fc.constantFrom<0 | 1>(0, 1), (t, pl, qos) => {
        try {
          const msg = decode(p, t, pl, qos);
          // Whatever decodes must encode back to the same bytes: the grammar has one spelling.
          const e = encode(p, msg);
          expect(e.payload).toBe(pl);
          expect(e.topic).toBe(t);
        } catch (e) {
          if (!isProtocolError(e)) throw e;
          expect(DROP_REASONS).toContain(e.reason);
        }
      }),
      { numRuns: 20_000, seed: 7 },
    );
  });

  it("accepts every encodable message (generated)", () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,23}$/).map((s) => NodeId(s));
    const counter = fc.integer({ min: 0, max: 4_294_967_295 });
    const msg: fc.Arbitrary<Message> = fc.oneof(
      fc.record({
        kind: fc.constant("report" as const),
        node: id,
        on: fc.boolean(),
        stamp: fc.record({ counter, origin: id }),
      }),
      fc.record({ kind: fc.constant("state" as const), node: id, on: fc.boolean(), counter }),
      fc.record({ kind: fc.constant("subscribe" as const), node: id, source: id }),
      id.chain((node) =>
        fc.record({
          kind: fc.constant("config" as const),
          node: fc.constant(node),
          version: counter,
          sources: fc.uniqueArray(
            id.filter((s) => s !== node),
            { maxLength: 8 },
          ),
        }),
      ),
    );
    fc.assert(
      fc.property(msg, (m) => {
        const e = encode(p, m);
        expect(decode(p, e.topic, e.payload, e.qos)).toEqual(m);
      }),
      { numRuns: 5_000, seed: 11 },
    );
  });
});
