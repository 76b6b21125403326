// A QoS 0 publish goes to all its subscribers as one frame, read once: its topic, its payload's text
// and its message are what each reader would make of the bytes, and the same objects for every one.
import { generate } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { publishFields, quickPublish, readPublish } from "../../node/mqtt-frames.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { sharedMessage, sharedRead, sharedText } from "../../node/shared-read.js";
import { decode, encode, NodeId, Prefix } from "../../protocol/index.js";
import { MemoryBroker } from "../memory-broker.js";

const prefix = Prefix("tf");

/** A broker with subscribers a, b, c to `filter` (what each gets is kept) and a publisher p. */
function fleet(filter: string) {
  const sched = new FakeScheduler();
  const broker = new MemoryBroker(sched, { record: false, forwardDelayMs: 0.5 });
  const got = new Map<string, Buffer[]>();
  const connect = (id: string, sub: boolean) => {
    const list: Buffer[] = [];
    got.set(id, list);
    const wire = broker.wire()({ packet: (bytes) => list.push(bytes), closed: () => {} });
    wire.write(
      generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: id }),
    );
    if (sub)
      wire.write(generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] }));
    return wire;
  };
  for (const id of ["a", "b", "c"]) connect(id, true);
  const p = connect("p", false);
  sched.runUntil(10);
  const publish = (topic: string, payload: string): [Buffer, Buffer, Buffer] => {
    for (const list of got.values()) list.length = 0;
    p.write(quickPublish(topic, payload, false));
    sched.runUntil(sched.now() + 10);
    const [a, b, c] = ["a", "b", "c"].map((id) => {
      const frames = (got.get(id) as Buffer[]).filter((f) => readPublish(f, publishFields()));
      expect(frames).toHaveLength(1);
      return frames[0] as Buffer;
    }) as [Buffer, Buffer, Buffer];
    return [a, b, c];
  };
  return { publish };
}

describe("a frame read once for all its readers", () => {
  const report = encode(prefix, {
    kind: "report",
    node: NodeId("n1"),
    on: true,
    stamp: { counter: 42, origin: NodeId("n7") },
  });

  it("gives every subscriber the same bytes, with what each would read of them", () => {
    const [a, b, c] = fleet(`${prefix}/report/+`).publish(report.topic, report.payload);
    expect(b).toBe(a);
    expect(c).toBe(a);
    const read = sharedRead(a);
    expect(read).toBeDefined();
    if (read === undefined) return;
    const f = publishFields();
    expect(readPublish(a, f)).toBe(true);
    expect(read.topic).toBe(f.topic);
    expect(read.payloadAt).toBe(f.payloadAt);
    expect(sharedText(read, a)).toBe(a.toString("utf8", f.payloadAt));
    const msg = sharedMessage(read, a, prefix);
    expect(msg).toEqual(decode(prefix, f.topic, a.subarray(f.payloadAt), 0));
    // The second reader (and the third) takes the first one's message.
    expect(sharedMessage(read, b, prefix)).toBe(msg);
    expect(sharedMessage(read, c, prefix)).toBe(msg);
    // Read under another prefix, it is decoded for that one.
    expect(() => decode(Prefix("other"), read.topic, sharedText(read, a), 0)).toThrow();
    expect(sharedMessage(read, a, Prefix("other"))).toBeUndefined();
  });

  it("leaves a payload that is not a valid message to each reader, to name what is wrong", () => {
    const [a] = fleet(`${prefix}/report/+`).publish(report.topic, "garbage");
    const read = sharedRead(a);
    expect(read).toBeDefined();
    if (read === undefined) return;
    expect(sharedMessage(read, a, prefix)).toBeUndefined();
  });

  it("knows nothing of other bytes", () => {
    expect(sharedRead(quickPublish(report.topic, report.payload, false))).toBeUndefined();
  });
});
