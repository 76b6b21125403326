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
    /** A session's queued packets, decoded, in key order. */
    outgoingStream(client: { readonly id: string }): Readable;
    /** Queues `packet` (copied, without its message id) under its broker id and counter. */
    outgoingEnqueue(sub: { readonly clientId: string }, packet: object): Promise<void>;
    /** Stores a queued packet again with its message id (the packet's broker id and counter name it). */
    outgoingUpdate(client: { readonly id: string }, packet: object): Promise<void>;
    destroy(): Promise<void>;
  }
}
