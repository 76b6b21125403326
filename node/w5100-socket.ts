/**
 * The W5100's side of the board's connection: the one TCP socket PubSubClient uses (its wire to the
 * broker and the link's two paths), the chip's RX buffer as a ring of whole packets, and the sockets
 * given up without a FIN. It decides nothing about MQTT: it opens, closes, cuts and abandons sockets
 * and holds received bytes until the loop reads them (docs/device-model.md §Falling behind).
 */
import type { Link, LinkPath } from "./link.js";
import type { DisconnectReason } from "./metrics.js";
import type { Scheduler } from "./scheduler.js";
import { type Wire, type WireFactory, wireAt } from "./wire.js";

export interface Socket {
  readonly wire: Wire;
  readonly up: LinkPath;
  readonly down: LinkPath;
  /** When the W5100 socket closed (timed out, or the broker closed it). */
  closedAt: number | undefined;
  closeReason: DisconnectReason;
  /** The broker's side has closed; its FIN may still be on its way. */
  peerClosed: boolean;
  /** Bytes the broker sent that the chip has not taken into its RX buffer yet (on the link, or stalled). */
  unreceived: number;
  /** When the latest bytes of a packet not whole yet reached the chip, while one is arriving. */
  partialAt: number | undefined;
  /**
   * Closed by the broker's FIN (the W5100 socket in CLOSE_WAIT), not by a reset or a timeout (CLOSED):
   * EthernetClient::connected() is still true while the RX buffer holds bytes (`readableAt`).
   */
  closeWait: boolean;
  /** Segments handed to the down path (data and FIN), and those it has delivered to the chip. */
  sentDown: number;
  deliveredDown: number;
  /** Signals that a packet's first bytes are in, each behind the segments sent before it (`partial`). */
  marks: { readonly after: number; readonly at: number }[];
  /** The signal whose delivery is scheduled. */
  markArmed: { readonly after: number; readonly at: number } | undefined;
}

/** The broker's FIN on the link: a segment with no data (every MQTT packet has some). */
const FIN = Buffer.alloc(0);

/** A packet in the RX buffer and when it landed there. */
export interface RxPacket {
  readonly bytes: Buffer;
  readonly at: number;
}

/** What the socket tells its user. */
export interface SocketEvents {
  /** Bytes from the broker reach the chip at `at`; false when they do not fit (the window closes). */
  receive(bytes: Buffer, at: number): boolean;
  /** Bytes of a packet not whole yet reach the chip at `at` (`Socket.partialAt`). */
  partial?(at: number): void;
  /** The connection attempt was reset: nothing listens on the broker's port. */
  refused(at: number): void;
  /** The open socket closed on its own (it timed out, or the broker closed it). */
  died(): void;
}

export interface W5100Options {
  readonly link: Link;
  readonly wire: WireFactory;
  readonly sched: Scheduler;
  /** The chip's RX buffer (`w5100.rxBufferBytes`). */
  readonly rxBufferBytes: number;
  /** The most of one packet the board keeps (PubSubClient's buffer, `mqtt.maxPacketBytes`, and a byte). */
  readonly keepBytes?: number;
}

/** Slots read out of the RX ring before it is compacted (when it has not emptied meanwhile). */
const RX_COMPACT_AT = 32;

export class W5100Socket {
  /** The socket in use, if any. */
  sock: Socket | undefined;
  /** Bytes in the RX buffer now, and the most it has held. */
  rxBytes = 0;
  rxPeak = 0;
  /**
   * The packets in the RX buffer: `rx[rxHead]` up to `rx[rxTail]`. The slots keep their objects and
   * the array its room for the next packets (a node's buffer empties after nearly every packet, and
   * an emptied array gives its room up). A packet read out stays as it is until the next one lands.
   */
  private readonly rx: { bytes: Buffer; at: number }[] = [];
  private rxHead = 0;
  private rxTail = 0;
  /**
   * Sockets given up without a FIN, still open: closed for real when the node stops, or let go when
   * the broker ends them (a wire tells its end even once abandoned). One the broker had already
   * ended is never kept: a node reconnecting after every broker restart would hold one per restart.
   */
  private abandoned = new Set<Wire>();
  /** Wires whose connection has ended (the broker closed it, or it never opened). */
  private readonly ended = new WeakSet<Wire>();

  constructor(private readonly o: W5100Options) {}

  // ---- the RX ring ----

  /** Takes a packet into the RX buffer; false when it does not fit (a packet alone always does). */
  accept(bytes: Buffer, at: number): boolean {
    if (this.rxTail > this.rxHead && this.rxBytes + bytes.length > this.o.rxBufferBytes) return false;
    const slot = this.rx[this.rxTail];
    if (slot === undefined) this.rx.push({ bytes, at });
    else {
      slot.bytes = bytes;
      slot.at = at;
    }
    this.rxTail++;
    this.rxBytes += bytes.length;
    if (this.rxBytes > this.rxPeak) this.rxPeak = this.rxBytes;
    return true;
  }

  /** The oldest packet in the RX buffer. */
  get head(): RxPacket | undefined {
    return this.rxHead < this.rxTail ? this.rx[this.rxHead] : undefined;
  }

  /** Reads the oldest packet out of the RX buffer. */
  shift(): RxPacket | undefined {
    if (this.rxHead === this.rxTail) return undefined;
    const item = this.rx[this.rxHead++] as RxPacket;
    this.rxBytes -= item.bytes.length;
    if (this.rxHead === this.rxTail) this.rxHead = this.rxTail = 0;
    else if (this.rxHead >= RX_COMPACT_AT) {
      // Never empty for long: the slots read out move behind the ones still waiting.
      this.rx.push(...this.rx.splice(0, this.rxHead));
      this.rxTail -= this.rxHead;
      this.rxHead = 0;
    }
    return item;
  }

  private clearRx(): void {
    this.rxHead = this.rxTail = 0;
    this.rxBytes = 0;
  }

  // ---- the socket ----

  /**
   * Opens a socket after a successful handshake: the real connection opens when the SYN reaches the
   * broker's host (`synArrives`). The RX buffer starts empty.
   */
  open(synArrives: number, ev: SocketEvents): Socket {
    const { link, sched } = this.o;
    let sock: Socket | undefined;
    const wire = wireAt(
      this.o.wire,
      {
        keepBytes: this.o.keepBytes,
        packet: (bytes) => {
          if (sock === undefined) return;
          const was = sock.unreceived;
          sock.unreceived += bytes.length;
          // The board's window is its free RX buffer: a broker never has more than that on the way.
          // Past it the wire reads no more, so the rest waits in the broker, not in this process.
          const max = this.o.rxBufferBytes;
          if (was <= max && sock.unreceived > max) wire.hold?.(true);
          sock.sentDown++;
          sock.down.send(bytes, sched.now());
        },
        partial: () => {
          if (sock === undefined) return;
          // Not a TCP segment (its bytes go in the packet's one segment once it is whole): no count,
          // no loss; it reaches the chip one latency later, behind the segments sent before it.
          sock.marks.push({ after: sock.sentDown, at: sched.now() + link.latencyMs });
          this.markDue(sock, ev);
        },
        closed: (refused) => {
          this.ended.add(wire);
          // An abandoned socket the broker closed (keepalive, takeover, its restart): nothing left to
          // free, and the board no longer listens to it.
          if (this.abandoned.delete(wire)) return;
          if (!sock) return;
          if (refused && this.sock === sock) ev.refused(sched.now());
          else if (this.sock === sock && sock.closedAt === undefined) {
            // The broker's FIN travels the link behind what the broker sent before it, and is lost
            // and sent again like it: a node behind a pulled cable does not hear of the close.
            sock.peerClosed = true;
            sock.sentDown++;
            sock.down.send(FIN, sched.now());
          }
        },
      },
      sched,
      synArrives,
    );
    const paths = link.connect(
      {
        deliver: (b, at) => {
          // A segment reaching a connection the broker's host has closed is answered with a reset.
          if (sock?.peerClosed) this.died(sock, at, "closed", ev);
          else wire.write(b);
          return true;
        },
        timedOut: (at) => {
          if (sock) this.died(sock, at, "socket-timeout", ev);
        },
      },
      {
        deliver: (b, at) => {
          if (sock) sock.deliveredDown++;
          if (b.length > 0) {
            // The packet that was arriving is whole (told so before the session reads it).
            const partialAt = sock?.partialAt;
            if (sock) sock.partialAt = undefined;
            if (!ev.receive(b, at)) {
              if (sock) {
                sock.partialAt = partialAt;
                sock.deliveredDown--;
              }
              return false;
            }
            if (sock) {
              this.received(sock, b.length, wire);
              this.markDue(sock, ev);
            }
            return true;
          }
          if (sock && this.sock === sock && sock.closedAt === undefined) sock.closeWait = true;
          if (sock) this.died(sock, at, "closed", ev);
          return true;
        },
        timedOut: (at) => {
          if (sock) this.died(sock, at, "socket-timeout", ev);
        },
      },
    );
    sock = {
      wire,
      up: paths.up,
      down: paths.down,
      closedAt: undefined,
      closeReason: "closed",
      peerClosed: false,
      unreceived: 0,
      partialAt: undefined,
      closeWait: false,
      sentDown: 0,
      deliveredDown: 0,
      marks: [],
      markArmed: undefined,
    };
    this.sock = sock;
    this.clearRx();
    return sock;
  }

  /**
   * Delivers the oldest signal that a packet's first bytes are in once every segment sent before it
   * has reached the chip, at its own time at the earliest. One overtaken by the segment after it
   * (the packet whole) says nothing any more, and one due while the cable is out never arrives
   * (its bytes come again with the packet).
   */
  private markDue(sock: Socket, ev: SocketEvents): void {
    const m = sock.marks[0];
    if (m === undefined || sock.deliveredDown < m.after || sock.markArmed === m) return;
    sock.markArmed = m;
    this.o.sched.at(Math.max(m.at, this.o.sched.now()), () => {
      sock.marks.shift();
      const live = this.sock === sock && sock.closedAt === undefined;
      const at = this.o.sched.now();
      if (live && sock.deliveredDown === m.after && this.o.link.upAt(m.at - this.o.link.latencyMs)) {
        sock.partialAt = at;
        ev.partial?.(at);
      }
      this.markDue(sock, ev);
    });
  }

  /** The chip took `n` bytes of the broker's: the wire reads again once the window would be open. */
  private received(sock: Socket, n: number, wire: Wire): void {
    const was = sock.unreceived;
    sock.unreceived -= n;
    if (was > this.o.rxBufferBytes && sock.unreceived <= this.o.rxBufferBytes) wire.hold?.(false);
  }

  /** The socket in use if it is still open at `t`. */
  openAt(t: number): Socket | undefined {
    const sock = this.sock;
    if (sock === undefined || (sock.closedAt !== undefined && sock.closedAt <= t)) return undefined;
    return sock;
  }

  /**
   * Whether the socket in use still reads as connected at `t` (EthernetClient::connected()): open, or
   * closed by the broker's FIN with bytes left in the RX buffer, which the loop reads first.
   */
  readableAt(t: number): boolean {
    const sock = this.sock;
    if (sock === undefined) return false;
    if (this.openAt(t) !== undefined) return true;
    return sock.closeWait && (this.rxHead < this.rxTail || sock.partialAt !== undefined);
  }

  private died(sock: Socket, at: number, reason: DisconnectReason, ev: SocketEvents): void {
    if (this.sock !== sock || sock.closedAt !== undefined) return;
    sock.closedAt = at;
    sock.closeReason = reason;
    sock.up.close();
    sock.down.close();
    if (reason === "socket-timeout") this.abandon(sock.wire);
    ev.died();
  }

  /**
   * The power goes: the W5100 stops at once — it receives nothing more and retransmits nothing — but
   * what it already put on the cable still reaches the broker; then the socket is abandoned (no FIN).
   */
  cut(at: number): void {
    const sock = this.sock;
    this.sock = undefined;
    this.clearRx();
    if (sock === undefined) return;
    sock.down.close();
    if (sock.closedAt !== undefined) {
      sock.up.close();
      this.abandon(sock.wire);
      return;
    }
    this.keep(sock.wire);
    sock.up.cut(at, () => sock.wire.abandon());
  }

  /** Releases the socket at `t`; `fin`: PubSubClient's stop() sends a FIN if the cable carries it. */
  drop(fin: boolean, t: number): void {
    const sock = this.sock;
    this.sock = undefined;
    this.clearRx();
    if (sock === undefined) return;
    sock.up.close();
    sock.down.close();
    if (fin && sock.closedAt === undefined && this.o.link.upAt(t)) sock.wire.destroy();
    else this.abandon(sock.wire);
  }

  private abandon(wire: Wire): void {
    this.keep(wire);
    wire.abandon();
  }

  /** Keeps an abandoned wire to close when the node stops, unless its connection has already ended. */
  private keep(wire: Wire): void {
    if (!this.ended.has(wire)) this.abandoned.add(wire);
  }

  /** The node stops for good: the socket in use is closed for real (then cut with the power). */
  destroyCurrent(): void {
    this.sock?.wire.destroy();
  }

  /** Closes for real every socket given up without a FIN. */
  destroyAbandoned(): void {
    for (const w of this.abandoned) w.destroy();
    this.abandoned.clear();
  }
}
