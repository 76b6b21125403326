/**
 * The frames of the in-memory transport between simulated nodes and a broker in another thread of
 * the same process: many per-node byte streams multiplexed over one MessagePort, with no file
 * descriptor. A batch is one ArrayBuffer (transferred, not copied) of frames, each a 9-byte header
 * (kind u8, stream u32, length u32) and `length` bytes of payload. Owns the encoding, the batching
 * (bytes posted once the task that wrote them is done, credit and control frames alone on the next
 * turn of the event loop) and the checks that reject a bad batch by name.
 */

/** Frame kinds. Client → broker: OPEN, DATA, CREDIT, CLOSE. Broker → client: DATA, CREDIT, CLOSE, REFUSED. */
export const FrameKind = {
  /** A client opens stream `stream` (its SYN). No payload. */
  open: 1,
  /** Bytes of the stream, in order. */
  data: 2,
  /** The receiver took this many more bytes (u32 payload): the sender may send that many more. */
  credit: 3,
  /** The stream is gone (FIN or reset); nothing more comes on it either way. No payload. */
  close: 4,
  /** Nothing listens: the open was refused (ECONNREFUSED). No payload. */
  refused: 5,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

import { hostTurn } from "./scheduler.js";

const HEADER = 9;
/** The largest DATA payload one frame may carry; a writer splits larger chunks. */
export const MAX_FRAME_PAYLOAD = 64 * 1024;
/** Bytes one side may send on a stream before the other grants more (a socket's buffer). */
export const STREAM_WINDOW = 128 * 1024;

export class PortFrameError extends Error {
  override readonly name = "PortFrameError";
}

export interface Frame {
  readonly kind: FrameKind;
  readonly stream: number;
  /** DATA: the bytes; CREDIT: the amount; otherwise 0. */
  readonly bytes?: Buffer;
  readonly credit?: number;
}

const KIND_NAMES = new Map<number, string>(Object.entries(FrameKind).map(([k, v]) => [v, k]));

/**
 * Reads a batch, calling `onFrame` for each frame in order. Throws PortFrameError naming what is
 * wrong (not an ArrayBuffer, a truncated frame, an unknown kind, a length the kind does not allow);
 * frames before the bad one have been delivered.
 */
export function readBatch(batch: unknown, onFrame: (f: Frame) => void): void {
  if (!(batch instanceof ArrayBuffer)) {
    const what = batch === null ? "null" : typeof batch === "object" ? batch.constructor?.name : typeof batch;
    throw new PortFrameError(`a transport batch must be an ArrayBuffer, got ${what}`);
  }
  const view = new DataView(batch);
  let at = 0;
  while (at < batch.byteLength) {
    if (batch.byteLength - at < HEADER)
      throw new PortFrameError(`truncated frame header at byte ${at} of a ${batch.byteLength}-byte batch`);
    const kind = view.getUint8(at);
    const stream = view.getUint32(at + 1);
    const length = view.getUint32(at + 5);
    const name = KIND_NAMES.get(kind);
    if (name === undefined) throw new PortFrameError(`unknown frame kind ${kind} at byte ${at}`);
    const body = at + HEADER;
    if (kind === FrameKind.data) {
      if (length === 0 || length > MAX_FRAME_PAYLOAD)
        throw new PortFrameError(
          `data frame of stream ${stream} carries ${length} bytes (1 to ${MAX_FRAME_PAYLOAD} allowed)`,
        );
    } else if (kind === FrameKind.credit) {
      if (length !== 4)
        throw new PortFrameError(`credit frame of stream ${stream} has length ${length}, not 4`);
    } else if (length !== 0) {
      throw new PortFrameError(`${name} frame of stream ${stream} has length ${length}, not 0`);
    }
    if (batch.byteLength - body < length)
      throw new PortFrameError(
        `frame of stream ${stream} at byte ${at} claims ${length} bytes, ${batch.byteLength - body} remain`,
      );
    if (kind === FrameKind.data) onFrame({ kind, stream, bytes: Buffer.from(batch, body, length) });
    else if (kind === FrameKind.credit) onFrame({ kind, stream, credit: view.getUint32(body) });
    else onFrame({ kind: kind as FrameKind, stream });
    at = body + length;
  }
}

/** Anything that takes a batch: a MessagePort (transferring it) in use, an array in tests. */
export interface BatchSink {
  postMessage(batch: ArrayBuffer, transfer: ArrayBuffer[]): void;
}

/**
 * Collects frames and posts them as one batch, so a burst of writes costs one message, not one each.
 * Bytes go once the task that wrote them is done (a microtask: every write of a node's exact send,
 * or of the broker's handling of one batch, in one message), not on the host's next turn of its
 * event loop: a turn later cost a wall-clock run ~0.16 ms at the median on the broker's side, and
 * on a node's side the thread could nap first (node/scheduler.ts). Credit and control frames alone
 * wait for the next turn (hostTurn by default), or go with the next bytes.
 */
export class FrameWriter {
  private parts: { kind: FrameKind; stream: number; bytes?: Buffer; credit?: number }[] = [];
  private size = 0;
  private scheduled = false;
  private soon = false;

  constructor(
    private readonly sink: BatchSink,
    private readonly schedule: (fn: () => void) => void = (fn) => void hostTurn().then(fn),
  ) {}

  data(stream: number, bytes: Buffer): void {
    if (!this.soon) {
      this.soon = true;
      queueMicrotask(() => this.flush());
    }
    for (let at = 0; at < bytes.length; at += MAX_FRAME_PAYLOAD) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + MAX_FRAME_PAYLOAD));
      this.add({ kind: FrameKind.data, stream, bytes: piece }, piece.length);
    }
  }

  credit(stream: number, amount: number): void {
    if (amount > 0) this.add({ kind: FrameKind.credit, stream, credit: amount }, 4);
  }

  control(
    kind: typeof FrameKind.open | typeof FrameKind.close | typeof FrameKind.refused,
    stream: number,
  ): void {
    this.add({ kind, stream }, 0);
  }

  /** Forgets every frame not posted yet (a killed broker sends nothing more). */
  discard(): void {
    this.parts = [];
    this.size = 0;
  }

  /** Posts what is collected now. */
  flush(): void {
    this.scheduled = false;
    this.soon = false;
    if (this.parts.length === 0) return;
    const buf = new ArrayBuffer(this.size);
    const view = new DataView(buf);
    const bytes = new Uint8Array(buf);
    let at = 0;
    for (const p of this.parts) {
      view.setUint8(at, p.kind);
      view.setUint32(at + 1, p.stream);
      if (p.bytes) {
        view.setUint32(at + 5, p.bytes.length);
        bytes.set(p.bytes, at + HEADER);
        at += HEADER + p.bytes.length;
      } else if (p.credit !== undefined) {
        view.setUint32(at + 5, 4);
        view.setUint32(at + HEADER, p.credit);
        at += HEADER + 4;
      } else {
        view.setUint32(at + 5, 0);
        at += HEADER;
      }
    }
    this.parts = [];
    this.size = 0;
    this.sink.postMessage(buf, [buf]);
  }

  private add(
    p: { kind: FrameKind; stream: number; bytes?: Buffer; credit?: number },
    payload: number,
  ): void {
    this.parts.push(p);
    this.size += HEADER + payload;
    // A flush already queued for this task's bytes takes these frames too.
    if (!this.scheduled && !this.soon) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }
}
