/**
 * The exact-topic index of retained messages that both broker stores keep beside their own data.
 * Aedes's stores answer every SUBSCRIBE by testing the pattern against every retained topic; a
 * fleet's nodes subscribe to exact topics only (their own config and report, their sources'
 * reports), several times each, so with thousands of nodes that scan was most of the broker's time.
 * An exact pattern is answered by one Map lookup; a wildcard pattern is left to the store's scan.
 */
import { Readable } from "node:stream";

/** What the index needs of a retained packet; aedes hands over its whole packet. */
export interface RetainedPacket {
  readonly topic: string;
  readonly payload: Buffer | Uint8Array;
}

export const isWildcard = (pattern: string): boolean => pattern.includes("+") || pattern.includes("#");

export class RetainedIndex {
  readonly #byTopic = new Map<string, RetainedPacket>();

  /** Records a retained packet; an empty payload clears its topic (MQTT-3.3.1-10). */
  store(packet: RetainedPacket): void {
    if (packet.payload.length === 0) this.#byTopic.delete(packet.topic);
    else this.#byTopic.set(packet.topic, { ...packet });
  }

  get size(): number {
    return this.#byTopic.size;
  }

  /**
   * The retained packets of `patterns` as aedes's retained stream, or undefined when one of them
   * is a wildcard (the caller then scans, as the store always did).
   */
  answer(patterns: readonly string[]): Readable | undefined {
    if (patterns.some(isWildcard)) return undefined;
    const out: RetainedPacket[] = [];
    for (const topic of patterns) {
      const p = this.#byTopic.get(topic);
      if (p) out.push(p);
    }
    return Readable.from(out);
  }
}
