/**
 * OutboundGuard on its own, with a socket stand-in whose writes complete only when the test says
 * and an injected clock: the byte bound, the stall timeout, progress that keeps a slow reader
 * connected, and a drain that ends the watch.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type OutboundClock, OutboundGuard, type OutboundLimitError } from "../outbound.js";

/** A clock that moves only when told; afterIo callbacks run at the next advance. */
class FakeClock implements OutboundClock {
  #now = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 0;
  #afterIo: (() => void)[] = [];

  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  afterIo(fn: () => void): void {
    this.#afterIo.push(fn);
  }
  /** Moves time on by `ms`, firing due timers in order, each followed by the afterIo work it queued. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
      for (const fn of this.#afterIo.splice(0)) fn();
    }
    this.#now = end;
  }
  get pendingTimers(): number {
    return this.#timers.size;
  }
}

/** A socket stand-in: holds each write until flush() (in order), like a peer that does not read. */
function stalledSocket(highWaterMark = 1000) {
  const held: (() => void)[] = [];
  const socket = new Writable({
    highWaterMark,
    write(_chunk, _enc, cb) {
      held.push(() => cb());
    },
  });
  return { socket, flushOne: () => held.shift()?.() };
}

function setup(limits: { maxQueuedBytes: number; drainTimeoutMs: number }) {
  const clock = new FakeClock();
  const { socket, flushOne } = stalledSocket();
  const cuts: OutboundLimitError[] = [];
  const guard = new OutboundGuard(socket, { ...limits, clock }, (err) => cuts.push(err));
  return { clock, socket, flushOne, cuts, guard };
}

const kb = Buffer.alloc(1024);

describe("OutboundGuard", () => {
  it("takes every write at once and cuts once the queue passes the bound, only once", () => {
    const { cuts, guard } = setup({ maxQueuedBytes: 4096, drainTimeoutMs: 1000 });
    for (let i = 0; i < 4; i++) guard.write(kb);
    expect(guard.queuedBytes).toBe(4096);
    expect(cuts).toEqual([]);
    guard.write(kb);
    guard.write(kb);
    expect(cuts).toHaveLength(1);
    expect(cuts[0]?.violation).toEqual({ kind: "queue-full", queuedBytes: 5120, limit: 4096 });
    expect(cuts[0]?.message).toBe(
      "5120 bytes queued for this client exceed the 4096-byte limit (it reads too slowly or not at all)",
    );
  });

  it("cuts a socket that takes nothing for drainTimeoutMs", () => {
    const { clock, cuts, guard } = setup({ maxQueuedBytes: 1 << 20, drainTimeoutMs: 1000 });
    guard.write(kb);
    guard.write(kb); // past the 1000-byte high-water mark: the watch starts
    clock.advance(999);
    expect(cuts).toEqual([]);
    clock.advance(1);
    expect(cuts[0]?.violation).toEqual({ kind: "stalled", queuedBytes: 2048, stalledMs: 1000 });
    expect(clock.pendingTimers).toBe(0);
  });

  it("keeps a slow reader that takes some bytes now and then", () => {
    const { clock, flushOne, cuts, guard } = setup({ maxQueuedBytes: 1 << 20, drainTimeoutMs: 1000 });
    for (let i = 0; i < 4; i++) guard.write(kb);
    clock.advance(600);
    flushOne();
    clock.advance(600);
    expect(cuts).toEqual([]);
    flushOne();
    clock.advance(999);
    expect(cuts).toEqual([]);
    clock.advance(1);
    expect(cuts[0]?.violation).toMatchObject({ kind: "stalled", queuedBytes: 2048 });
  });

  it("stops watching once the socket drains", () => {
    const { clock, flushOne, cuts, guard } = setup({ maxQueuedBytes: 1 << 20, drainTimeoutMs: 1000 });
    guard.write(kb);
    guard.write(kb);
    flushOne();
    flushOne();
    expect(guard.queuedBytes).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000);
    expect(cuts).toEqual([]);
  });

  it("writes nothing more and leaves no timer once disposed", () => {
    const { clock, socket, cuts, guard } = setup({ maxQueuedBytes: 1 << 20, drainTimeoutMs: 1000 });
    guard.write(kb);
    guard.write(kb);
    guard.dispose();
    guard.write(kb);
    expect(socket.writableLength).toBe(2048);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000);
    expect(cuts).toEqual([]);
  });
});
