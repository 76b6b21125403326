/**
 * A stream's send window on the in-memory transport (node/port-frames.ts), the same on the node's
 * and the broker's side: at most STREAM_WINDOW bytes sent and not yet credited by the receiver (a
 * write larger than the window goes alone once nothing is outstanding); what does not fit waits, in
 * order, and goes as credit comes in — as a socket's full buffer holds a writer back.
 */
import { STREAM_WINDOW } from "./port-frames.js";

/** Called once a write has gone to the port; with an error when it was dropped instead. */
export type Sent = (err?: Error | null) => void;

export class SendWindow {
  private unacked = 0;
  private readonly waiting: { readonly bytes: Buffer; readonly sent: Sent | undefined }[] = [];

  /**
   * `send` puts bytes on the port. `copy`: the writer may reuse its buffer once write() returns, so
   * what has to wait is kept as a copy.
   */
  constructor(
    private readonly send: (bytes: Buffer) => void,
    private readonly copy = false,
  ) {}

  /** Sends `bytes` now if the window has room and nothing waits, else queues them; `sent` once they go. */
  write(bytes: Buffer, sent?: Sent): void {
    if (this.waiting.length > 0 || !this.fits(bytes.length)) {
      this.waiting.push({ bytes: this.copy ? Buffer.from(bytes) : bytes, sent });
      return;
    }
    this.go(bytes);
    sent?.();
  }

  /** The receiver took `amount` more bytes: sends what waits, in order, while it fits. */
  credit(amount: number): void {
    this.unacked -= amount;
    while (this.waiting.length > 0) {
      const w = this.waiting[0] as { bytes: Buffer; sent: Sent | undefined };
      if (!this.fits(w.bytes.length)) break;
      this.waiting.shift();
      this.go(w.bytes);
      w.sent?.();
    }
  }

  /** Drops what waits (the stream is gone), telling each writer `err`. */
  drop(err?: Error | null): void {
    for (const w of this.waiting.splice(0)) w.sent?.(err);
  }

  private fits(length: number): boolean {
    return this.unacked <= 0 || this.unacked + length <= STREAM_WINDOW;
  }

  private go(bytes: Buffer): void {
    this.unacked += bytes.length;
    this.send(bytes);
  }
}
