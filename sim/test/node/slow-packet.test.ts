/**
 * A packet that arrives slowly, read as PubSubClient 2.8 reads it (src/PubSubClient.cpp, loop(),
 * readPacket(), readByte()): the loop is held from the packet's first byte to its last, or until
 * MQTT_SOCKET_TIMEOUT (15 s) passes with no byte. The bytes go to the node as a TCP wire reads them
 * (node/wire.ts splitInto), trickled from "the broker" past the in-memory broker's own encoder.
 */
import { describe, expect, it } from "vitest";
import type { NodeEvent } from "../../../node/metrics.js";
import { FrameSplitter } from "../../../node/mqtt-frames.js";
import { FakeScheduler } from "../../../node/scheduler.js";
import { SimNode } from "../../../node/sim-node.js";
import { splitInto, type WireHandlers } from "../../../node/wire.js";
import { MemoryBroker } from "../../memory-broker.js";
import { UNO } from "./helpers.js";

/** A PUBLISH to tf/x of `total` bytes in all (a 2-byte remaining length), as slow-publish.mjs builds it. */
function bigPublish(total: number): Buffer {
  const topic = Buffer.from("tf/x");
  const rest = total - 3;
  const head = Buffer.from([0x30, (rest & 127) | 128, rest >> 7, 0, topic.length]);
  return Buffer.concat([head, topic, Buffer.alloc(rest - 2 - topic.length, 0x31)]);
}

/**
 * A node on a broker that drops clients silent for 1.5 × keepalive (`sessions`), and a trickle;
 * `muted`: nothing the broker itself sends reaches the node (the trickle does).
 */
function setup(sessions: boolean, muted = false) {
  const sched = new FakeScheduler();
  const broker = new MemoryBroker(sched, { sessions });
  const inner = broker.wire();
  let toNode: WireHandlers | undefined;
  let ended = false;
  const events: NodeEvent[] = [];
  const n = new SimNode({
    id: "A",
    seed: "test",
    profile: UNO,
    sched,
    wire: (h) => {
      toNode = h;
      ended = false;
      return inner({
        ...h,
        packet: (b) => {
          if (!muted) h.packet(b);
        },
        closed: (refused) => {
          ended = true;
          h.closed(refused);
        },
      });
    },
    sink: (e) => events.push(e),
  });
  /** Puts `pk` on the connection from `from` on, `perTick` bytes every `stepMs`, until `stopAt` or the broker closes it. */
  const trickle = (
    pk: Buffer,
    from: number,
    perTick: number,
    stopAt = Number.POSITIVE_INFINITY,
    stepMs = 100,
  ) => {
    const h = toNode as WireHandlers;
    const f = new FrameSplitter(h.keepBytes);
    let last = from;
    for (let off = 0, at = from; off < pk.length && at <= stopAt; off += perTick, at += stepMs) {
      const chunk = pk.subarray(off, off + perTick);
      sched.at(at, () => {
        if (ended || toNode !== h) return;
        last = at;
        splitInto(f, chunk, h);
      });
    }
    return () => last;
  };
  const connectedAt = () => {
    const c = events.find((e) => e.type === "connected");
    if (c === undefined) throw new Error("never connected");
    return c.at;
  };
  const fromNode = (cmd: string, after: number) =>
    broker.received.filter((r) => r.client === "tf-A" && r.packet.cmd === cmd && r.at > after);
  const lost = () => events.filter((e) => e.type === "disconnected");
  const open = () => toNode !== undefined;
  return { sched, broker, n, events, trickle, connectedAt, fromNode, lost, open };
}

describe("a packet that arrives slowly", () => {
  it("holds the loop while 10 KB come at 400 B/s: no ping, the broker closes, lost 15 s after the last byte", () => {
    const t = setup(true);
    t.n.start();
    t.sched.runUntil(3000);
    const c = t.connectedAt();
    const last = t.trickle(bigPublish(10_240), c + 3000, 40);
    t.sched.runUntil(c + 5000);
    t.n.press();
    t.sched.runUntil(c + 37_000);
    // Held in readPacket(): no PINGREQ at 15 s, the press not published; the broker, hearing
    // nothing for 1.5 × keepalive, closed the session 22.5 s after the node's last packet.
    expect(t.fromNode("pingreq", c)).toHaveLength(0);
    expect(t.fromNode("publish", c + 4000)).toHaveLength(0);
    const lastOut = Math.max(...t.broker.received.filter((r) => r.client === "tf-A").map((r) => r.at));
    expect(last()).toBeGreaterThan(lastOut + 22_400); // the chunk before the close
    expect(last()).toBeLessThan(lastOut + 23_500);
    expect(t.lost()).toHaveLength(0);
    t.sched.runUntil(c + 40_000);
    // readByte() gave up 15 s after the last byte reached the chip; the socket was closed: state() -3.
    const gone = t.lost();
    expect(gone.map((e) => (e.type === "disconnected" ? e.reason : ""))).toEqual(["closed"]);
    const at = (gone[0] as NodeEvent).at;
    expect(at - last()).toBeGreaterThanOrEqual(15_000);
    expect(at - last()).toBeLessThan(15_000 + 10);
    expect(t.n.stats().mqtt.closedByBroker).toBe(1);
  });

  it("reads 10 KB at 1,000 B/s when the last byte is in, then publishes the press and keeps the session", () => {
    const t = setup(true);
    t.n.start();
    t.sched.runUntil(3000);
    const c = t.connectedAt();
    const last = t.trickle(bigPublish(10_240), c + 3000, 100);
    t.sched.runUntil(c + 5000);
    t.n.press();
    t.sched.runUntil(c + 60_000);
    // The press waited for the read: published after the packet's last byte, not at 5 s.
    const pubs = t.fromNode("publish", c + 4000);
    expect(pubs.length).toBeGreaterThan(0);
    expect((pubs[0] as { at: number }).at).toBeGreaterThan(last());
    expect(t.n.stats().mqtt.oversizedDropped).toBe(1);
    expect(t.lost()).toHaveLength(0);
    expect(t.n.connected).toBe(true);
  });

  it("ends the session when 15 s pass between bytes on a socket still open", () => {
    const t = setup(false);
    t.n.start();
    t.sched.runUntil(3000);
    const c = t.connectedAt();
    const last = t.trickle(bigPublish(10_240), c + 3000, 40, c + 5000);
    t.sched.runUntil(c + 5000 + 14_000);
    expect(t.lost()).toHaveLength(0);
    t.sched.runUntil(c + 5000 + 16_000);
    const gone = t.lost();
    expect(gone.map((e) => (e.type === "disconnected" ? e.reason : ""))).toEqual(["read-timeout"]);
    expect((gone[0] as NodeEvent).at - last()).toBeGreaterThanOrEqual(15_000);
    expect(t.n.stats().mqtt.closedByNode).toBe(1);
    // The sketch connects again after its reconnect period.
    t.sched.runUntil(c + 5000 + 30_000);
    expect(t.n.connected).toBe(true);
  });
});

describe("the signal that a packet is arriving", () => {
  it("is no TCP segment: the link counts the packet's one segment, not one per read of it", () => {
    const t = setup(false);
    t.n.start();
    t.sched.runUntil(3000);
    const c = t.connectedAt();
    const before = t.n.stats().link.down.segments;
    t.trickle(bigPublish(1000), c + 3000, 40); // 25 reads, one packet
    t.sched.runUntil(c + 8000);
    expect(t.n.stats().mqtt.oversizedDropped).toBe(1);
    expect(t.n.stats().link.down.segments - before).toBe(1);
  });
});

describe("a CONNACK that arrives slowly", () => {
  it("fails 15 s after its last byte, not 15 s after the CONNECT: readByte() waits afresh per byte", () => {
    const t = setup(false, true);
    t.n.start();
    while (!t.open()) t.sched.runUntil(t.sched.now() + 1);
    const connectAt = t.sched.now();
    // `20`, `02`, `00` one every 5 s, then silence: the 4th byte never comes.
    const last = t.trickle(Buffer.from([0x20, 0x02, 0x00]), connectAt + 1, 1, Number.POSITIVE_INFINITY, 5000);
    const failures = () => t.events.flatMap((e) => (e.type === "connect-failed" ? [e] : []));
    t.sched.runUntil(connectAt + 24_000);
    expect(failures()).toEqual([]);
    t.sched.runUntil(connectAt + 26_000);
    const failed = failures();
    // connect() stops the socket with state() as it was: an answer that is no CONNACK it can read.
    expect(failed.map((e) => e.reason)).toEqual(["bad-connack"]);
    expect((failed[0] as NodeEvent).at - last()).toBeGreaterThanOrEqual(15_000);
    expect((failed[0] as NodeEvent).at - last()).toBeLessThan(15_000 + 10);
  });
});
