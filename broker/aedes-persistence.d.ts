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
    /** aedes-packet's Packet, which the store copies every queued packet into. */
    static Packet: new (
      original: object,
    ) => object;
    constructor(opts?: Record<string, unknown>);
    outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>;
    outgoingEnqueueCombi(subs: readonly { clientId: string }[], packet: object): Promise<void>;
    outgoingUpdate(client: { id: string }, packet: object): Promise<void>;
    outgoingClearMessageId(
      client: { id: string },
      packet: { messageId?: number },
    ): Promise<object | undefined>;
    outgoingStream(client: { id: string }): Readable;
    incomingStorePacket(client: { id: string }, packet: object): Promise<void>;
    incomingDelPacket(client: { id: string }, packet: object): Promise<void>;
    cleanIncoming(client: { id: string }): Promise<void>;
    storeRetained(packet: RetainedPacket): Promise<void>;
    createRetainedStreamCombi(patterns: readonly string[]): Readable;
    createRetainedStream(pattern: string): Readable;
    destroy(): Promise<void>;
  }
}
