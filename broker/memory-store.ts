/**
 * The in-memory store of the embedded broker: aedes's own, with the exact-topic index of retained
 * messages (broker/retained-index.ts) answering every subscription's retained messages.
 */
import type { Readable } from "node:stream";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import { RetainedIndex, type RetainedPacket } from "./retained-index.js";

export class IndexedMemoryPersistence extends MemoryPersistence {
  readonly #index = new RetainedIndex();

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    this.#index.store(packet);
    await super.storeRetained(packet);
  }

  override createRetainedStreamCombi(patterns: readonly string[]): Readable {
    return this.#index.answer(patterns);
  }

  override createRetainedStream(pattern: string): Readable {
    return this.#index.answer([pattern]);
  }
}
