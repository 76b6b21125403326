/**
 * The in-memory broker's retained messages, one per topic, read as text (UTF-8, as the broker sends
 * them on). A payload that came in as bytes is kept as bytes, in a buffer of the topic's own that the
 * next retained publish to that topic is copied into when it fits: every report a node publishes is
 * retained and replaces its last one, and a new string for each — kept for a minute, then dropped —
 * outlived the young generation and was collected from the old one.
 */

/** A topic's payload as bytes: the first `len` of `buf`. */
interface Held {
  buf: Buffer;
  len: number;
}

/** Room kept past a payload's length, so that a counter gaining a digit still fits. */
const SPARE_BYTES = 8;

/**
 * Copies `src` from `from` on to the start of `dst`, byte by byte: a payload is tens of bytes, and
 * Buffer's copy of part of a buffer makes a view of it first.
 */
function copyInto(dst: Buffer, src: Buffer, from: number): void {
  const n = src.length - from;
  for (let i = 0; i < n; i++) dst[i] = src[from + i] as number;
}

export class RetainedMessages implements Iterable<[string, string]> {
  private readonly byTopic = new Map<string, string | Held>();

  get size(): number {
    return this.byTopic.size;
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  /** The topic's retained payload as text, if it has one. */
  get(topic: string): string | undefined {
    const v = this.byTopic.get(topic);
    return v === undefined || typeof v === "string" ? v : v.buf.toString("utf8", 0, v.len);
  }

  /** Keeps `payload` as the topic's retained message (not cleared when empty: see `keep`). */
  set(topic: string, payload: string): this {
    this.byTopic.set(topic, payload);
    return this;
  }

  /** Keeps the bytes of `bytes` from `from` on as the topic's retained message. */
  keep(topic: string, bytes: Buffer, from: number): void {
    const len = bytes.length - from;
    const v = this.byTopic.get(topic);
    if (v !== undefined && typeof v !== "string" && v.buf.length >= len) {
      copyInto(v.buf, bytes, from);
      v.len = len;
      return;
    }
    const buf = Buffer.allocUnsafe(len + SPARE_BYTES);
    copyInto(buf, bytes, from);
    this.byTopic.set(topic, { buf, len });
  }

  delete(topic: string): boolean {
    return this.byTopic.delete(topic);
  }

  clear(): void {
    this.byTopic.clear();
  }

  /** Every retained message as [topic, payload], in the order their topics were first retained. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const topic of this.byTopic.keys()) yield [topic, this.get(topic) as string];
  }
}
