/**
 * The index of retained messages that both broker stores keep beside their own data, and that
 * answers every SUBSCRIBE's retained messages. Aedes's stores answer by testing the pattern against
 * every retained topic, the LevelDB one by reading and decoding every key from disk; a fleet's nodes
 * subscribe to exact topics only (their own config and report, their sources' reports), several
 * times each, so with thousands of nodes that scan was most of the broker's time. An exact pattern is
 * answered by one Map lookup; a wildcard pattern (a tool's `tf/report/+`) walks the index in memory,
 * never the disk — so its retained messages follow the SUBACK as promptly as an exact one's.
 */
import { Readable } from "node:stream";

/** What the index needs of a retained packet; aedes hands over its whole packet. */
export interface RetainedPacket {
  readonly topic: string;
  readonly payload: Buffer | Uint8Array;
}

export const isWildcard = (pattern: string): boolean => pattern.includes("+") || pattern.includes("#");

/** What a retained message weighs against the broker's cap: its topic's and its payload's bytes. */
export const retainedWeight = (p: RetainedPacket): number => Buffer.byteLength(p.topic) + p.payload.length;

/** The broker's own namespace, which no client may publish to (broker/acl.ts): its start id (broker/start-id.ts). */
export const isOwn = (topic: string): boolean => topic.startsWith("$SYS/");

export class RetainedIndex {
  readonly #byTopic = new Map<string, RetainedPacket>();
  #bytes = 0;
  /** Topics of the broker's own (`$SYS/`) held: not counted against the cap, nor in `size` and `bytes`. */
  #own = 0;
  /** Told the size of each answer (broker/retained-order.ts holds the client's later messages behind it). */
  answered: ((count: number) => void) | undefined;

  /** Records a retained packet; an empty payload clears its topic (MQTT-3.3.1-10). */
  store(packet: RetainedPacket): void {
    const own = isOwn(packet.topic);
    const held = this.#byTopic.get(packet.topic);
    if (held) {
      if (own) this.#own--;
      else this.#bytes -= retainedWeight(held);
    }
    if (packet.payload.length === 0) this.#byTopic.delete(packet.topic);
    else {
      this.#byTopic.set(packet.topic, { ...packet });
      if (own) this.#own++;
      else this.#bytes += retainedWeight(packet);
    }
  }

  /** The retained topics held now, the broker's own left out. */
  get size(): number {
    return this.#byTopic.size - this.#own;
  }

  /** The retained topics' and payloads' bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Every retained packet held, in the order its topic was first retained. */
  packets(): IterableIterator<RetainedPacket> {
    return this.#byTopic.values();
  }

  /** The retained packet of `topic`, or undefined when none is held. */
  get(topic: string): RetainedPacket | undefined {
    return this.#byTopic.get(topic);
  }

  /** The retained packets matching any of `patterns` (each once), as aedes's retained stream. */
  answer(patterns: readonly string[]): Readable {
    const out: RetainedPacket[] = [];
    if (!patterns.some(isWildcard)) {
      for (const topic of new Set(patterns)) {
        const p = this.#byTopic.get(topic);
        if (p) out.push(p);
      }
    } else {
      const filters = patterns.map((p) => p.split("/"));
      for (const [topic, p] of this.#byTopic) {
        const levels = topic.split("/");
        if (filters.some((f) => topicMatches(f, levels))) out.push(p);
      }
    }
    this.answered?.(out.length);
    return Readable.from(out);
  }
}

/**
 * MQTT 3.1.1 topic matching (§4.7): `+` one level, `#` this level and every one below it (so
 * `a/#` matches `a`), and a wildcard at the first level never matches a `$` topic [MQTT-4.7.2-1].
 */
export function topicMatches(filter: readonly string[], topic: readonly string[]): boolean {
  if ((topic[0] ?? "").startsWith("$") && (filter[0] === "+" || filter[0] === "#")) return false;
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i];
    if (f === "#") return true;
    if (i >= topic.length || (f !== "+" && f !== topic[i])) return false;
  }
  return filter.length === topic.length;
}
