/**
 * The node side of the in-memory transport (node/port-frames.ts): a WireFactory whose wires are
 * streams multiplexed over one MessagePort to a broker in another thread of this process, in place
 * of TCP sockets — the same MQTT bytes, no file descriptor. Like a socket, a wire holds back what the
 * broker has not made room for (its window, node/port-window.ts), hands on whole packets, and
 * reports a refused open (no broker listening) or a connection the broker cut. The port's first
 * message is the thread's nap cell (node/scheduler.ts napCell), for the broker's side to wake it by.
 */
import { FrameSplitter } from "./mqtt-frames.js";
import { type BatchSink, type Frame, FrameKind, FrameWriter, readBatch } from "./port-frames.js";
import { SendWindow } from "./port-window.js";
import { napCell } from "./scheduler.js";
import { splitInto, type Wire, type WireFactory, type WireHandlers } from "./wire.js";

/** What the client side needs of a MessagePort. */
export interface PortLike extends BatchSink {
  on(event: "message", listener: (batch: unknown) => void): unknown;
  /** Batches; and first, once, this thread's nap cell, which the broker's side notifies when it posts. */
  postMessage(message: ArrayBuffer | SharedArrayBuffer, transfer?: ArrayBuffer[]): void;
}

class PortWire implements Wire {
  private readonly frames: FrameSplitter;
  /** Delivering to the node (not abandoned, not closed). */
  private live = true;
  /** The end is told no more: told already, or destroy() was called. */
  private quiet = false;
  /** The stream exists on the broker's side as far as this side knows. */
  private open = true;
  private established = false;
  /** The node's buffer is its own again once write() returns: what waits is a copy. */
  private readonly window: SendWindow;

  constructor(
    private readonly mux: PortMux,
    readonly stream: number,
    private readonly h: WireHandlers,
  ) {
    this.frames = new FrameSplitter(h.keepBytes);
    this.window = new SendWindow((bytes) => mux.writer.data(stream, bytes), true);
  }

  write(bytes: Buffer): void {
    if (!this.live || !this.open) return;
    this.window.write(bytes);
  }

  abandon(): void {
    this.live = false;
  }

  destroy(): void {
    this.live = false;
    this.quiet = true;
    if (!this.open) return;
    this.open = false;
    this.window.drop();
    this.mux.closeStream(this);
  }

  onFrame(f: Frame): void {
    switch (f.kind) {
      case FrameKind.data: {
        const bytes = f.bytes as Buffer;
        // Read even when abandoned, as a socket's kernel keeps taking bytes nobody looks at.
        this.mux.writer.credit(this.stream, bytes.length);
        this.established = true;
        if (!this.live) return;
        try {
          splitInto(this.frames, bytes, this.h);
        } catch {
          this.destroy();
          this.h.closed(false);
        }
        return;
      }
      case FrameKind.credit:
        this.established = true;
        this.window.credit(f.credit ?? 0);
        return;
      case FrameKind.close:
      case FrameKind.refused:
        this.gone(f.kind === FrameKind.refused && !this.established);
        return;
      default:
        return;
    }
  }

  /** The broker's side ended the stream (or was never there). */
  gone(refused: boolean): void {
    this.open = false;
    this.window.drop();
    this.mux.forget(this);
    // Told of an abandoned wire too: its owner lets it go.
    const told = this.quiet;
    this.live = false;
    this.quiet = true;
    if (!told) this.h.closed(refused);
  }
}

/** One port's streams: numbers them, routes the broker's frames to them. */
class PortMux {
  readonly writer: FrameWriter;
  private readonly wires = new Map<number, PortWire>();
  private next = 1;

  constructor(port: PortLike, onError: (err: Error) => void) {
    this.writer = new FrameWriter(port);
    // The broker thread wakes this one when it posts, instead of leaving a batch until a nap ends.
    port.postMessage(napCell());
    port.on("message", (batch) => {
      try {
        readBatch(batch, (f) => this.wires.get(f.stream)?.onFrame(f));
      } catch (e) {
        // A broker that speaks nonsense is no broker: every stream is cut.
        onError(e as Error);
        for (const w of [...this.wires.values()]) w.gone(false);
      }
    });
  }

  openStream(h: WireHandlers): PortWire {
    const stream = this.next;
    this.next = this.next >= 0xffff_ffff ? 1 : this.next + 1;
    const w = new PortWire(this, stream, h);
    this.wires.set(stream, w);
    this.writer.control(FrameKind.open, stream);
    return w;
  }

  closeStream(w: PortWire): void {
    this.wires.delete(w.stream);
    this.writer.control(FrameKind.close, w.stream);
  }

  forget(w: PortWire): void {
    this.wires.delete(w.stream);
  }
}

/**
 * Wires over `port`, to the broker thread's end of it. `onError` hears of a batch from the broker
 * that is not well formed (every stream is then cut).
 */
export function portWire(port: PortLike, onError: (err: Error) => void = () => {}): WireFactory {
  const mux = new PortMux(port, onError);
  return (h) => mux.openStream(h);
}
