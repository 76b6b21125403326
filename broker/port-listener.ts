/**
 * The broker side of the in-memory transport (node/port-frames.ts): takes MessagePorts from client
 * threads, and for each stream a client opens makes one Duplex, handed to the broker the way an
 * accepted socket is (so admission, the frame limit and the conformance gate apply unchanged). A
 * stream's writes wait for the client's credit (node/port-window.ts; a socket's full buffer:
 * `writableLength` grows and the outbound guard sees it); its reads grant credit only as the broker
 * takes them. A client's nap cell, sent first, is notified after every batch posted to it (the
 * client thread's nap ends then). While nothing listens (a killed broker), opens are refused; cut()
 * ends every stream at once and drops what was not sent, as a dead process's sockets.
 */
import { Duplex } from "node:stream";
import {
  type BatchSink,
  type Frame,
  FrameKind,
  FrameWriter,
  PortFrameError,
  readBatch,
} from "../node/port-frames.js";
import { SendWindow } from "../node/port-window.js";
import { endNap } from "../node/scheduler.js";
import { assertNever } from "../protocol/index.js";

/** What the listener needs of a MessagePort. */
export interface ListenerPort extends BatchSink {
  on(event: "message", listener: (batch: unknown) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  close(): void;
}

export type Accept = (stream: PortStream, address: string) => void;

/** One client's stream as the broker sees it. */
export class PortStream extends Duplex {
  /** A write is done once it went to the port: until then the stream's `writableLength` holds it. */
  private readonly window: SendWindow;
  /** Credit owed to the client for bytes the broker has not read yet. */
  private owed = 0;
  private wantsMore = true;
  /** The client's side is gone (or the transport was cut): send nothing more. */
  private peerGone = false;

  constructor(
    private readonly link: PortLink,
    readonly stream: number,
    readonly remoteAddress: string,
  ) {
    super({ allowHalfOpen: false });
    this.window = new SendWindow((chunk) => link.writer.data(stream, chunk));
  }

  /** Bytes from the client. */
  fromClient(bytes: Buffer): void {
    if (this.destroyed) return;
    if (this.wantsMore) {
      this.link.writer.credit(this.stream, bytes.length);
      this.wantsMore = this.push(bytes);
    } else {
      this.owed += bytes.length;
      this.push(bytes);
    }
  }

  credit(amount: number): void {
    this.window.credit(amount);
  }

  /** The client closed it (FIN or reset): the broker reads the end, then the stream closes. */
  peerClosed(): void {
    this.peerGone = true;
    this.push(null);
    this.destroy();
  }

  /** Cut without a word to anyone (the transport died with the broker). */
  cut(): void {
    this.peerGone = true;
    this.destroy();
  }

  override _read(): void {
    this.wantsMore = true;
    if (this.owed > 0) {
      this.link.writer.credit(this.stream, this.owed);
      this.owed = 0;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.peerGone) {
      done();
      return;
    }
    this.window.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    done();
    this.destroy();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.window.drop(err);
    if (!this.peerGone) {
      this.peerGone = true;
      this.link.writer.control(FrameKind.close, this.stream);
    }
    this.link.forget(this);
    done(err);
  }
}

/** One client thread's port and its streams. */
class PortLink {
  readonly writer: FrameWriter;
  private readonly streams = new Map<number, PortStream>();
  /** The client thread's nap cell (node/scheduler.ts napCell), notified after every batch posted. */
  private wake: Int32Array | undefined;

  constructor(
    private readonly listener: PortListener,
    readonly port: ListenerPort,
    readonly address: string,
  ) {
    this.writer = new FrameWriter({
      postMessage: (batch, transfer) => {
        port.postMessage(batch, transfer);
        if (this.wake) endNap(this.wake);
      },
    });
    port.on("message", (batch) => {
      if (batch instanceof SharedArrayBuffer && batch.byteLength >= 4 && this.wake === undefined) {
        this.wake = new Int32Array(batch, 0, 1);
        return;
      }
      try {
        readBatch(batch, (f) => this.onFrame(f));
      } catch (e) {
        this.listener.onError(e as Error, this.address);
        this.cut(true);
      }
    });
    // The client thread closed its end or ended: its connections are gone, as a dead process's.
    port.on("close", () => {
      for (const s of [...this.streams.values()]) s.peerClosed();
      this.streams.clear();
    });
  }

  forget(s: PortStream): void {
    if (this.streams.get(s.stream) === s) this.streams.delete(s.stream);
  }

  /** Ends every stream; `tell`: the client hears of each (a bad batch), else nothing more is sent. */
  cut(tell: boolean): void {
    if (!tell) this.writer.discard();
    for (const s of [...this.streams.values()]) {
      if (tell) s.destroy();
      else s.cut();
      if (!tell) this.writer.control(FrameKind.close, s.stream);
    }
    this.streams.clear();
  }

  get size(): number {
    return this.streams.size;
  }

  private onFrame(f: Frame): void {
    const s = this.streams.get(f.stream);
    switch (f.kind) {
      case FrameKind.open: {
        if (s) throw new PortFrameError(`open frame for stream ${f.stream}, which is already open`);
        const accept = this.listener.accepting;
        if (!accept) {
          this.writer.control(FrameKind.refused, f.stream);
          return;
        }
        const stream = new PortStream(this, f.stream, this.address);
        this.streams.set(f.stream, stream);
        accept(stream, this.address);
        return;
      }
      case FrameKind.data:
        s?.fromClient(f.bytes as Buffer);
        return;
      case FrameKind.credit:
        s?.credit(f.credit ?? 0);
        return;
      case FrameKind.close:
        if (s) {
          this.streams.delete(f.stream);
          s.peerClosed();
        }
        return;
      case FrameKind.refused:
        throw new PortFrameError(`a client sent a refused frame (stream ${f.stream}); only the broker may`);
      default:
        assertNever(f.kind);
    }
  }
}

export class PortListener {
  private readonly links: PortLink[] = [];
  accepting: Accept | undefined;

  /** `onError`: a client port sent a batch that is not well formed (its streams are then cut). */
  constructor(readonly onError: (err: Error, address: string) => void = () => {}) {}

  /** A client thread's port; its streams show as coming from `address`. */
  attach(port: ListenerPort, address: string): void {
    this.links.push(new PortLink(this, port, address));
  }

  /** New streams go to `accept` from now on. */
  listen(accept: Accept): void {
    this.accepting = accept;
  }

  /** Every stream ends at once, unsent bytes are dropped, and opens are refused until listen(). */
  cut(): void {
    this.accepting = undefined;
    for (const l of this.links) l.cut(false);
  }

  /** Streams open now, over every port. */
  get streams(): number {
    let n = 0;
    for (const l of this.links) n += l.size;
    return n;
  }

  close(): void {
    this.cut();
    for (const l of this.links) {
      l.writer.flush();
      l.port.close();
    }
    this.links.length = 0;
  }
}
