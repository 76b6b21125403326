// A held TCP wire reads nothing more from its real socket: what the broker sends meanwhile stays in
// the kernels' buffers and then in the broker's own write queue, and all of it arrives once let go.
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { tcpWire } from "../wire.js";

/** A QoS 0 PUBLISH to "t" with `n` payload bytes (n + 3 under 128 + 128²: a 2-byte length). */
function publish(n: number, fill: number): Buffer {
  const rem = 3 + n;
  return Buffer.concat([
    Buffer.from([0x30, (rem & 0x7f) | 0x80, rem >> 7, 0, 1, 0x74]),
    Buffer.alloc(n, fill),
  ]);
}

/** Waits (real time, bounded) until `cond` holds. */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let server: Server | undefined;
/** Closed after each test, passed or failed: a server closes only once its connections are gone. */
const opened: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

describe("TcpWire.hold", () => {
  it("stops reading the socket while held and delivers everything once let go", async () => {
    const packets = 8000; // 8 MB: more than the loopback's kernel buffers on both sides take
    const one = publish(1000, 0x61);
    const total = packets * one.length;
    let peer: Socket | undefined;
    let accepted = 0;
    let refusedMore = false;
    server = createServer((s) => {
      peer = s;
      opened.push(s);
      for (let i = 0; i < packets; i++) accepted += s.write(one) ? 1 : 0;
      refusedMore = accepted < packets; // write() said "no more": the queue is over its high-water mark
    });
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;

    let delivered = 0;
    let count = 0;
    let bad = 0;
    const wire = tcpWire(
      "127.0.0.1",
      port,
    )({
      packet: (p) => {
        delivered += p.length;
        count++;
        if (!p.equals(one)) bad++;
      },
      closed: () => {},
    });
    opened.push(wire);
    wire.hold?.(true);
    await until(() => peer !== undefined, 10_000, "the connection");
    // Held, the broker's queue stops shrinking once the kernels' buffers are full: wait until it has
    // not moved for 10 polls (or, with a wire that reads on, until it is empty).
    let last = -1;
    let still = 0;
    await until(
      () => {
        const q = peer?.writableLength ?? 0;
        still = q === last ? still + 1 : 0;
        last = q;
        return q === 0 || still >= 10;
      },
      20_000,
      "the broker's write queue to settle",
    );
    expect(refusedMore).toBe(true);
    expect(peer?.writableLength).toBeGreaterThan(total / 4); // most of it still waits in the broker
    expect(delivered).toBeLessThan(total / 2);
    const whileHeld = delivered;

    wire.hold?.(false);
    await until(() => delivered === total, 20_000, `all ${total} bytes (${delivered} so far)`);
    expect(whileHeld).toBeLessThan(delivered);
    expect(count).toBe(packets);
    expect(bad).toBe(0);
  });
});
