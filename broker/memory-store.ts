/**
 * The in-memory store of the embedded broker: aedes's own, with an exact-topic index of retained
 * messages. aedes-persistence answers every SUBSCRIBE by testing the pattern against every retained
 * topic; a fleet subscribes to exact topics only (its own config and report, its sources' reports),
 * so with thousands of nodes that scan was most of the broker's time. Wildcard patterns still scan.
 */
import { Readable } from "node:stream";
import MemoryPersistence, { type RetainedPacket } from "aedes-persistence/asyncPersistence.js";

const isWildcard = (pattern: string) => pattern.includes("+") || pattern.includes("#");

export class IndexedMemoryPersistence extends MemoryPersistence {
  private readonly exact = new Map<string, RetainedPacket>();

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    await super.storeRetained(packet);
    if (packet.payload.length === 0) this.exact.delete(packet.topic);
    else this.exact.set(packet.topic, { ...packet });
  }

  override createRetainedStreamCombi(patterns: readonly string[]): Readable {
    if (patterns.some(isWildcard)) return super.createRetainedStreamCombi(patterns);
    return Readable.from(this.lookup(patterns));
  }

  override createRetainedStream(pattern: string): Readable {
    if (isWildcard(pattern)) return super.createRetainedStream(pattern);
    return Readable.from(this.lookup([pattern]));
  }

  private lookup(topics: readonly string[]): RetainedPacket[] {
    const out: RetainedPacket[] = [];
    for (const t of topics) {
      const p = this.exact.get(t);
      if (p) out.push(p);
    }
    return out;
  }
}
