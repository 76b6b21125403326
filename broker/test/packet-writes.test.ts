/**
 * Each packet the broker writes reaches the socket as one write, so with Nagle off it leaves as one
 * TCP segment. Aedes writes a packet in pieces through mqtt-packet, which corks the stream around
 * them; the transport wrapper must hand the corked pieces on together.
 */
import { Duplex } from "node:stream";
import { Aedes } from "aedes";
import mqttPacket from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { FrameLimitedStream } from "../frame-limit.js";
import { connect, publish, subscribe } from "./conformance/bytes.js";

/** A stand-in for the socket that keeps every write the broker makes, one entry per write. */
function fakeSocket() {
  const writes: Buffer[] = [];
  const inner = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      cb();
    },
    writev(chunks, cb) {
      // A socket given a vector sends it at once: one write.
      writes.push(Buffer.concat(chunks.map((c) => c.chunk as Buffer)));
      cb();
    },
  });
  return { inner, writes };
}

/** Every write must be whole packets; returns the packet types of each write. */
function packetsPerWrite(writes: readonly Buffer[]): string[][] {
  return writes.map((w) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const cmds: string[] = [];
    parser.on("packet", (p) => cmds.push(p.cmd));
    parser.on("error", (e) => {
      throw e;
    });
    const left = parser.parse(w);
    expect(left, `a write ends inside a packet: ${w.toString("hex")}`).toBe(0);
    return cmds;
  });
}

const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

let broker: Aedes | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (broker ? broker.close(() => r()) : r()));
  broker = undefined;
});

describe("the broker's writes", () => {
  it("writes a packet mqtt-packet writes in pieces as one socket write", async () => {
    const { inner, writes } = fakeSocket();
    const stream = new FrameLimitedStream(inner, 64 * 1024);
    const packet = {
      cmd: "publish",
      topic: "tf/report/lamp-1",
      payload: Buffer.from("R1 lamp-1 5 1"),
      qos: 1,
      messageId: 7,
      retain: true,
      dup: false,
    } as const;
    mqttPacket.writeToStream(packet, stream);
    await ticks(2);
    expect(writes).toEqual([mqttPacket.generate(packet)]);
    stream.destroy();
  });

  it("hands every packet of a session to the socket whole: one write each, never a piece", async () => {
    broker = await Aedes.createBroker();
    const { inner, writes } = fakeSocket();
    const stream = new FrameLimitedStream(inner, 64 * 1024);
    broker.handle(stream);
    inner.push(connect({ id: "n1" }));
    await ticks(20);
    inner.push(subscribe(1, ["tf/report/#", 1]));
    await ticks(20);
    inner.push(publish("tf/report/n1", "R1 n1 1 1", { qos: 1, id: 2 }));
    inner.push(publish("tf/report/n1", "R1 n1 2 0"));
    await ticks(40);
    const cmds = packetsPerWrite(writes).flat();
    expect(cmds).toEqual(expect.arrayContaining(["connack", "suback", "puback", "publish"]));
    expect(cmds.filter((c) => c === "publish")).toHaveLength(2);
    // Fewer writes than a piece-by-piece writer would make (a PUBLISH alone is five or six pieces).
    expect(writes.length).toBeLessThanOrEqual(cmds.length);
    stream.destroy();
  });
});
