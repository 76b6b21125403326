/**
 * Types for the one file of aedes-persistence-redis the broker uses; the package ships none.
 */
declare module "aedes-persistence-redis/asyncPersistence.js" {
  import type { Redis } from "ioredis";

  /** aedes 1.x's async persistence on Redis; aedes calls the rest of its interface. */
  export default class AsyncRedisPersistence {
    constructor(opts: { readonly conn: Redis; readonly maxSessionDelivery?: number });
    createRetainedStreamCombi(patterns: readonly string[]): AsyncIterable<object>;
    createRetainedStream(pattern: string): AsyncIterable<object>;
    outgoingStream(client: { readonly id: string }): AsyncIterable<object>;
    /** The wills of the brokers not named (truthy) in `brokers`; all of them without it. */
    streamWill(brokers?: Readonly<Record<string, unknown>>): AsyncIterable<object>;
    delWill(client: { readonly id: string; readonly brokerId: string }): Promise<unknown>;
    /** Leaves the emitter's subscription broadcast, then disconnects its connection. */
    destroy(): Promise<void>;
  }
}
