/**
 * The W5100's RX buffer as the socket holds it: whole packets until the buffer is full (the window
 * closes), one packet larger than the buffer only when it is empty, room again as the loop reads.
 * The broker's close as the chip hears it: a FIN over the link, or a reset to its next segment.
 * A broker that sends faster than the loop reads: the wire is held once more than the buffer is on
 * its way, so the rest waits in the broker as it waits for a board's window.
 */
import { describe, expect, it } from "vitest";
import { Link } from "../link.js";
import { nodeRandom } from "../rng.js";
import { FakeScheduler } from "../scheduler.js";
import { W5100Socket } from "../w5100-socket.js";
import type { WireHandlers } from "../wire.js";

function chip(rxBufferBytes: number): W5100Socket {
  return setup(rxBufferBytes).chip;
}

function setup(rxBufferBytes = 2048) {
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
  const wires: WireHandlers[] = [];
  const written: number[] = [];
  /** The wires closed for real, by their number in `wires`. */
  const destroyed: number[] = [];
  /** Each hold(true/false) the wires were told, in order. */
  const holds: boolean[] = [];
  const chip = new W5100Socket({
    link,
    wire: (h) => {
      const n = wires.push(h) - 1;
      return {
        write: () => written.push(sched.now()),
        abandon() {},
        destroy: () => destroyed.push(n),
        hold: (on: boolean) => holds.push(on),
      };
    },
    sched,
    rxBufferBytes,
  });
  return { sched, link, chip, wires, written, destroyed, holds };
}

const bytes = (n: number) => Buffer.alloc(n, 1);

/**
 * A socket opened at 0 whose arrivals and death (and, `partial`, each signal that a packet's first
 * bytes are in) are written down in `heard`, and the broker's end of it.
 */
function opened(partial = false) {
  const t = setup();
  const heard: string[] = [];
  const sock = t.chip.open(0, {
    receive: (b, at) => {
      heard.push(`data ${b.length} at ${at}`);
      return true;
    },
    ...(partial ? { partial: (at: number) => void heard.push(`partial at ${at}`) } : {}),
    refused: () => heard.push("refused"),
    died: () => heard.push(`died at ${t.chip.sock?.closedAt}`),
  });
  t.sched.runUntil(1);
  const broker = t.wires[0];
  if (broker === undefined) throw new Error("the wire was not opened");
  return { ...t, heard, sock, broker };
}

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

describe("the broker's close as the chip hears it", () => {
  it("hears it one link latency later, after the data the broker sent before it", () => {
    const t = opened();
    t.sched.runUntil(20);
    t.broker.packet(Buffer.alloc(5, 1));
    t.broker.closed(false);
    t.sched.runUntil(100);
    expect(t.heard).toEqual(["data 5 at 20.1", "died at 20.1"]);
    expect(t.sock.closeReason).toBe("closed");
  });

  it("does not hear it behind a pulled cable, and hears it once the FIN's retransmission gets through", () => {
    const t = opened();
    t.link.pullCable(10);
    t.sched.runUntil(20);
    t.broker.closed(false);
    t.sched.runUntil(5000);
    // Sent at 20 and lost at 20, 220, 620, 1420 and 3020, behind the pulled cable.
    expect(t.heard).toEqual([]);
    expect(t.chip.openAt(5000)).toBe(t.sock);
    t.link.plugCable(5000);
    t.sched.runUntil(20_000);
    expect(t.heard).toEqual(["died at 6220.1"]);
  });

  it("is told by a reset when its own segment reaches the closed connection first", () => {
    const t = opened();
    t.link.pullCable(10);
    t.sched.runUntil(20);
    t.broker.closed(false);
    t.sched.runUntil(3000);
    // Lost at 3000, 3200, 3600 and 4400; its attempt at 6000 is before the FIN's at 6220.
    t.sock.up.send(Buffer.alloc(3, 2), 3000);
    t.link.plugCable(5000);
    t.sched.runUntil(20_000);
    expect(t.heard).toEqual(["died at 6000.1"]);
    // The segment went nowhere: the broker's host answered it with a reset.
    expect(t.written).toEqual([]);
  });
});

describe("a socket closed with bytes in the RX buffer (EthernetClient::connected())", () => {
  /** A socket whose received packets go into the RX buffer, and the broker's end of it. */
  function filled() {
    const t = setup();
    const sock = t.chip.open(0, {
      receive: (b, at) => t.chip.accept(b, at),
      refused: () => {},
      died: () => {},
    });
    t.sched.runUntil(1);
    const broker = t.wires[0];
    if (broker === undefined) throw new Error("the wire was not opened");
    return { ...t, sock, broker };
  }

  it("reads on after the broker's FIN (CLOSE_WAIT) until the buffer is empty", () => {
    const t = filled();
    t.broker.packet(Buffer.alloc(5, 1));
    t.broker.packet(Buffer.alloc(5, 2));
    t.broker.closed(false);
    t.sched.runUntil(100);
    expect(t.chip.openAt(100)).toBeUndefined();
    expect(t.chip.readableAt(100)).toBe(true);
    t.chip.shift();
    expect(t.chip.readableAt(100)).toBe(true);
    t.chip.shift();
    expect(t.chip.readableAt(100)).toBe(false);
  });

  it("reads nothing more after a reset (CLOSED), whatever the buffer holds", () => {
    const t = filled();
    t.link.pullCable(10);
    t.sched.runUntil(20);
    t.chip.accept(Buffer.alloc(5, 1), 20);
    t.broker.closed(false);
    t.sched.runUntil(3000);
    t.sock.up.send(Buffer.alloc(3, 2), 3000); // reaches the closed connection before the FIN: a reset
    t.link.plugCable(5000);
    t.sched.runUntil(20_000);
    expect(t.sock.closedAt).toBe(6000.1);
    expect(t.chip.head).toBeDefined();
    expect(t.chip.readableAt(20_000)).toBe(false);
  });
});

describe("the signal that a packet's first bytes are in", () => {
  it("reaches the chip behind the segment sent before it, retransmitted, and is no segment itself", () => {
    const { heard, sock, broker, ...t } = opened(true);
    t.link.pullCable(5);
    t.sched.runUntil(10);
    broker.packet(Buffer.alloc(5, 1)); // lost at 10, 210, 610: through at 1410 once plugged
    t.link.plugCable(900);
    t.sched.runUntil(1000);
    broker.partial?.(); // due at 1000.1, behind the segment still to come
    t.sched.runUntil(5000);
    expect(heard).toEqual(["data 5 at 1410.1", "partial at 1410.1"]);
    expect(sock.down.stats.segments).toBe(1);
  });
});

describe("the sockets given up without a FIN", () => {
  const events = { receive: () => true, refused: () => {}, died: () => {} };

  it("keeps none the broker had already closed, however many reconnects (one per broker restart)", () => {
    const t = setup();
    for (let i = 0; i < 50; i++) {
      const at = i * 1000;
      t.chip.open(at, events);
      t.sched.runUntil(at + 1);
      // The broker dies: its end of the connection closes, the chip hears the FIN, PubSubClient's
      // connected() is false and the sketch reconnects, its stop() sending no FIN on a dead socket.
      t.wires[i]?.closed(false);
      t.sched.runUntil(at + 10);
      t.chip.drop(false, at + 10);
    }
    // Nothing left to close when the node stops: every connection was already gone.
    t.chip.destroyAbandoned();
    expect(t.destroyed).toEqual([]);
  });

  it("lets go of one abandoned while open once the broker ends it, and closes the others when the node stops", () => {
    const t = setup();
    t.chip.open(0, events);
    t.sched.runUntil(1);
    t.chip.drop(false, 1);
    t.chip.open(2, events);
    t.sched.runUntil(3);
    t.chip.drop(false, 3);
    // The broker's keepalive ends the first one: the wire tells it though abandoned.
    t.wires[0]?.closed(false);
    t.chip.destroyAbandoned();
    expect(t.destroyed).toEqual([1]);
  });
});

describe("a broker that sends faster than the loop reads", () => {
  it("is held once more than the RX buffer is on its way, and read again as the loop makes room", () => {
    const t = setup(100);
    const sock = t.chip.open(0, { receive: (b, at) => t.chip.accept(b, at), refused() {}, died() {} });
    t.sched.runUntil(1);
    const broker = t.wires[0];
    if (broker === undefined) throw new Error("the wire was not opened");
    // 100 packets of 20 bytes at once: 5 fill the buffer, the rest stall on the link.
    for (let i = 0; i < 100; i++) broker.packet(bytes(20));
    t.sched.runUntil(10);
    expect(t.chip.rxBytes).toBe(100);
    // Held at the 11th packet (220 bytes sent, 200 not in the chip), and not let go meanwhile.
    expect(t.holds).toEqual([true]);
    expect(sock.unreceived).toBe(1900);
    // The loop reads every packet, one at a time: the wire is let go once at most 100 are unreceived.
    let read = 0;
    while (t.chip.shift() !== undefined) {
      read++;
      sock.down.resume(t.sched.now());
      t.sched.runUntil(t.sched.now() + 1);
      if (sock.unreceived > 100) expect(t.holds).toEqual([true]);
    }
    expect(read).toBe(100);
    expect(t.holds).toEqual([true, false]);
    expect(sock.unreceived).toBe(0);
  });
});
