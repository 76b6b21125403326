/**
 * The byte transport under a node's link: a real TCP socket to the broker (`tcpWire`), or anything
 * else with the same shape (tests use in-memory brokers). The wire delivers whole MQTT packets.
 * A connection the broker's host refuses (no broker on the port: it was killed) is reported as such:
 * the W5100 sees the reset during its TCP handshake and connect() fails at once.
 * A board that loses its socket without a FIN (power cut, W5100 timeout) *abandons* the wire: it
 * stays open and silent until the broker drops it (keepalive, session takeover) or the node stops.
 * An abandoned wire still tells when its connection ends (`closed`), so its owner can let it go.
 * A wire can be held (`hold`): it reads nothing more from its socket until let go, so what the broker
 * sends meanwhile waits in the kernels' buffers and then in the broker, as it waits for a board's TCP
 * window; a wire whose node cannot fall behind (an in-memory one) need not implement it.
 */
import { isIP, type LookupFunction, connect as netConnect, type Socket } from "node:net";
import { FrameSplitter } from "./mqtt-frames.js";
import type { Scheduler } from "./scheduler.js";

export interface WireHandlers {
  /** A whole packet; one over `keepBytes` comes as its first `keepBytes` bytes (node/frame-splitter.ts). */
  packet(bytes: Buffer): void;
  /**
   * Bytes of a packet not whole yet came in (its first, or more of it): told after the packets
   * the same read completed, in order with them, so a board can be held in readPacket() from a
   * packet's first byte to its last (docs/device-model.md, "A packet that arrives slowly").
   */
  partial?(): void;
  /** The most of one packet the reader keeps (PubSubClient's buffer and a byte); default: all of it. */
  readonly keepBytes?: number;
  /**
   * The connection ended; `refused`: it was never established (nothing listens on the port). Told
   * of an abandoned wire too (at once if it was abandoned before it opened); never after destroy().
   */
  closed(refused?: boolean): void;
}

export interface Wire {
  write(bytes: Buffer): void;
  /** Stop delivering and sending; the peer is not told. Its end is still told (`closed`). */
  abandon(): void;
  /** Really close (node stopped). */
  destroy(): void;
  /**
   * Stop reading what the broker sends (`true`: the node's receive window is closed), or read again
   * (`false`). Packets already split off are still delivered; nothing more is taken off the socket.
   */
  hold?(held: boolean): void;
}

export type WireFactory = (handlers: WireHandlers) => Wire;

/**
 * Splits a chunk read off a connection into `h`'s packets, then tells `h` if it ends inside a packet
 * (throws what the splitter throws). Whole packets arriving at once cost one check more.
 */
export function splitInto(frames: FrameSplitter, chunk: Buffer, h: WireHandlers): void {
  frames.push(chunk, (p) => h.packet(p));
  if (frames.pending) h.partial?.();
}

/**
 * Connections to `host`:`port`. With `addresses` (what a host name named when the run started:
 * fleet/broker-address.ts) the name is not looked up again: each connection goes to those addresses,
 * each in turn as Node tries a name's, as a board given its broker's address connects there until it
 * is flashed again. Without, a name is looked up at each connection.
 */
export function tcpWire(host: string, port: number, addresses?: readonly string[]): WireFactory {
  const lookup = addresses === undefined || addresses.length === 0 ? undefined : pinnedLookup(addresses);
  return (h) => new TcpWire(netConnect({ host, port, noDelay: true, ...(lookup ? { lookup } : {}) }), h);
}

/** A lookup that answers `addresses` whatever is asked, after the caller's turn (as the resolver does). */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const all = addresses.map((address) => ({ address, family: isIP(address) }));
  const first = all[0] as { address: string; family: number };
  return (_host, options, callback) => {
    if (options.all === true) process.nextTick(callback, null, all);
    else process.nextTick(callback, null, first.address, first.family);
  };
}

class TcpWire implements Wire {
  private readonly frames: FrameSplitter;
  private live = true;
  /** destroy() was called: the end is not told. */
  private destroyed = false;
  private established = false;

  constructor(
    private readonly socket: Socket,
    h: WireHandlers,
  ) {
    this.frames = new FrameSplitter(h.keepBytes);
    socket.on("data", (chunk: Buffer) => {
      if (!this.live) return;
      try {
        splitInto(this.frames, chunk, h);
      } catch {
        socket.destroy();
      }
    });
    socket.on("error", () => {});
    socket.once("connect", () => {
      this.established = true;
    });
    socket.on("close", () => {
      const told = this.destroyed;
      this.live = false;
      this.destroyed = true;
      if (!told) h.closed(!this.established);
    });
  }

  write(bytes: Buffer): void {
    if (this.live && !this.socket.destroyed) this.socket.write(bytes);
  }

  abandon(): void {
    this.live = false;
    this.socket.resume(); // an abandoned wire still reads, to hear its end
  }

  destroy(): void {
    this.live = false;
    this.destroyed = true;
    this.socket.destroy();
  }

  hold(held: boolean): void {
    if (!this.live) return;
    if (held) this.socket.pause();
    else this.socket.resume();
  }
}

/**
 * A wire opened at model time `at` (exactly, never before), not when the model computes the
 * handshake: the real connection is what the broker's host sees, so it must see the node's SYN when
 * the node's SYN would arrive. A node reacting to a dead broker's reset at once would otherwise knock
 * on the dying process's listener within microseconds, which no board on a LAN can do. Writes before
 * then wait for it; abandoned or destroyed before then, it never connects (abandoned, it tells
 * `closed` at once: there is nothing left of it).
 */
export function wireAt(factory: WireFactory, h: WireHandlers, sched: Scheduler, at: number): Wire {
  let real: Wire | undefined;
  let gone = false;
  let held = false;
  const queued: Buffer[] = [];
  const open = sched.at(
    at,
    () => {
      if (gone) return;
      real = factory(h);
      if (held) real.hold?.(true);
      for (const b of queued) real.write(b);
      queued.length = 0;
    },
    true,
  );
  const end = (how: (w: Wire) => void, tell: boolean) => {
    if (real) how(real);
    else if (!gone) {
      gone = true;
      open.cancel();
      if (tell) h.closed(false);
    }
  };
  return {
    write: (bytes) => {
      if (real) real.write(bytes);
      else if (!gone) queued.push(bytes);
    },
    abandon: () => end((w) => w.abandon(), true),
    destroy: () => end((w) => w.destroy(), false),
    hold: (on) => {
      held = on;
      real?.hold?.(on);
    },
  };
}
