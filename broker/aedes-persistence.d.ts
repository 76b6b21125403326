/**
 * Types for the one file of aedes-persistence we extend; the package ships none.
 */
declare module "aedes-persistence/asyncPersistence.js" {
  import type { Readable } from "node:stream";

  export interface RetainedPacket {
    readonly topic: string;
    readonly payload: Buffer | Uint8Array;
  }

  /** aedes 1.x's in-memory async persistence; aedes calls the rest of its interface. */
  export default class MemoryPersistence {
    constructor(opts?: Record<string, unknown>);
    storeRetained(packet: RetainedPacket): Promise<void>;
    createRetainedStreamCombi(patterns: readonly string[]): Readable;
    createRetainedStream(pattern: string): Readable;
    destroy(): Promise<void>;
  }
}
