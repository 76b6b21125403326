/**
 * The W5100's RX buffer as the socket holds it: whole packets until the buffer is full (the window
 * closes), one packet larger than the buffer only when it is empty, room again as the loop reads.
 */
import { describe, expect, it } from "vitest";
import { Link } from "../link.js";
import { nodeRandom } from "../rng.js";
import { FakeScheduler } from "../scheduler.js";
import { W5100Socket } from "../w5100-socket.js";

function chip(rxBufferBytes: number): W5100Socket {
  const sched = new FakeScheduler();
  const policy = { firstRtoMs: 200, capMs: 6400, retries: 8 };
  const link = new Link({
    sched,
    nodePolicy: policy,
    brokerPolicy: policy,
    latencyMs: 0.1,
    connectTimeoutMs: 1000,
    randUp: nodeRandom("t", "A", "loss-up"),
    randDown: nodeRandom("t", "A", "loss-down"),
  });
  return new W5100Socket({
    link,
    wire: () => ({ write() {}, abandon() {}, destroy() {} }),
    sched,
    rxBufferBytes,
  });
}

const bytes = (n: number) => Buffer.alloc(n, 1);

describe("W5100Socket's RX buffer", () => {
  it("takes packets until the next would overflow, and has room again once the oldest is read", () => {
    const c = chip(100);
    expect(c.accept(bytes(60), 1)).toBe(true);
    expect(c.accept(bytes(40), 2)).toBe(true);
    expect(c.accept(bytes(1), 3)).toBe(false);
    expect(c.rxBytes).toBe(100);
    expect(c.head?.at).toBe(1);
    expect(c.shift()?.bytes.length).toBe(60);
    expect(c.rxBytes).toBe(40);
    expect(c.accept(bytes(1), 4)).toBe(true);
    expect(c.head?.at).toBe(2);
    expect(c.rxPeak).toBe(100);
  });

  it("takes a packet larger than the whole buffer only when the buffer is empty", () => {
    const c = chip(100);
    expect(c.accept(bytes(10), 1)).toBe(true);
    expect(c.accept(bytes(150), 2)).toBe(false);
    c.shift();
    expect(c.accept(bytes(150), 3)).toBe(true);
    expect(c.rxBytes).toBe(150);
    expect(c.rxPeak).toBe(150);
  });

  it("empties the buffer when the socket is dropped, keeping the peak", () => {
    const c = chip(100);
    c.accept(bytes(70), 1);
    c.drop(true, 5);
    expect(c.rxBytes).toBe(0);
    expect(c.head).toBeUndefined();
    expect(c.rxPeak).toBe(70);
  });

  it("reads packets out in the order they landed, however long the buffer never empties", () => {
    const c = chip(100);
    const read: number[] = [];
    let landed = 0;
    // Two packets waiting at every read, for far longer than the ring's room before it compacts.
    c.accept(bytes(10 + (landed++ % 7)), landed);
    for (let i = 0; i < 200; i++) {
      expect(c.accept(bytes(10 + (landed++ % 7)), landed)).toBe(true);
      const at = c.head?.at;
      const item = c.shift();
      expect(item?.at).toBe(at);
      read.push(item?.at ?? -1);
      expect(c.rxBytes).toBe(10 + ((landed - 1) % 7));
    }
    expect(read).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(c.shift()?.at).toBe(201);
    expect(c.shift()).toBeUndefined();
    expect(c.rxBytes).toBe(0);
  });
});
