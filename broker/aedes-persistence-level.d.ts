/**
 * Types for the one file of aedes-persistence-level we extend; the package ships none.
 */
declare module "aedes-persistence-level/asyncPersistence.js" {
  import type { Readable } from "node:stream";
  import type { ClassicLevel } from "classic-level";

  interface RetainedPacket {
    readonly topic: string;
    readonly payload: Buffer | Uint8Array;
  }

  /** aedes 1.x's async persistence interface over a LevelDB; aedes calls the rest. */
  export default class LevelPersistence {
    constructor(db: ClassicLevel<string, Buffer>);
    /** Called by aedes once before it listens; loads the subscriptions. */
    setup(broker: unknown): Promise<void>;
    storeRetained(packet: RetainedPacket): Promise<void>;
    createRetainedStreamCombi(patterns: readonly string[]): Readable;
    createRetainedStream(pattern: string): Readable;
    destroy(): Promise<void>;
  }
}
