/**
 * The in-memory store of the embedded broker: aedes's own, with the exact-topic index of retained
 * messages (broker/retained-index.ts) answering every subscription's retained messages, and queues
 * of unacknowledged packets that forget a client once it has none (broker/outgoing-queues.ts).
 */
import type { Readable } from "node:stream";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import { OutgoingQueues, type QueuedPacket } from "./outgoing-queues.js";
import { RetainedIndex, type RetainedPacket } from "./retained-index.js";

export class IndexedMemoryPersistence extends MemoryPersistence {
  /** Every retained message held, in memory (the broker's cap reads it: broker/retained-cap.ts). */
  readonly index = new RetainedIndex();
  readonly outgoing = new OutgoingQueues();

  /** Retained topics held now. */
  get retainedCount(): number {
    return this.index.size;
  }

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    this.index.store(packet);
    await super.storeRetained(packet);
  }

  override createRetainedStreamCombi(patterns: readonly string[]): Readable {
    return this.index.answer(patterns);
  }

  override createRetainedStream(pattern: string): Readable {
    return this.index.answer([pattern]);
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void> {
    this.outgoing.enqueue(sub.clientId, packet);
  }

  override async outgoingEnqueueCombi(subs: readonly { clientId: string }[], packet: object): Promise<void> {
    for (const sub of subs) this.outgoing.enqueue(sub.clientId, packet);
  }

  override async outgoingUpdate(client: { id: string }, packet: object): Promise<void> {
    this.outgoing.update(client, packet as QueuedPacket);
  }

  override async outgoingClearMessageId(
    client: { id: string },
    packet: { messageId?: number },
  ): Promise<object | undefined> {
    return this.outgoing.clear(client, packet);
  }

  override outgoingStream(client: { id: string }): Readable {
    return this.outgoing.stream(client);
  }

  /** Inbound QoS 2 packet ids awaiting PUBREL, per client (the package keeps its own privately). */
  readonly #incoming = new Map<string, Set<number>>();

  override async incomingStorePacket(client: { id: string }, packet: { messageId?: number }): Promise<void> {
    await super.incomingStorePacket(client, packet);
    const ids = this.#incoming.get(client.id) ?? new Set<number>();
    ids.add(packet.messageId ?? 0);
    this.#incoming.set(client.id, ids);
  }

  override async incomingDelPacket(client: { id: string }, packet: { messageId?: number }): Promise<void> {
    await super.incomingDelPacket(client, packet);
    const ids = this.#incoming.get(client.id);
    ids?.delete(packet.messageId ?? 0);
    if (ids?.size === 0) this.#incoming.delete(client.id);
  }

  override async cleanIncoming(client: { id: string }): Promise<void> {
    await super.cleanIncoming(client);
    this.#incoming.delete(client.id);
  }

  /**
   * Session expiry (broker/session-expiry.ts): nothing here outlives the broker, so no session is
   * held at its start and no time is kept; the sessions are the ones its clients make.
   */
  async sessionIds(): Promise<readonly string[]> {
    return [];
  }

  async loadSeen(): Promise<ReadonlyMap<string, number>> {
    return new Map();
  }

  async saveSeen(): Promise<void> {}

  async dropQueue(clientId: string): Promise<number> {
    return this.outgoing.drop(clientId);
  }

  /** Session state besides subscriptions: queued QoS 1/2 messages, or inbound QoS 2 awaiting PUBREL. */
  async hasSessionState(client: { id: string }): Promise<boolean> {
    return this.outgoing.holds(client.id) || (this.#incoming.get(client.id)?.size ?? 0) > 0;
  }
}
