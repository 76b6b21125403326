/**
 * The in-memory store's queues of QoS 1/2 packets waiting for a client's acknowledgement (or for a
 * persistent session to come back). aedes-persistence 11 keeps them in a Map that gains an entry
 * for every client id that acknowledges anything — every PUBACK from every client, clean sessions
 * included, even for a packet it never had — and never deletes one: each client id ever seen stayed
 * in memory for the broker's life (up to 64 KiB apiece with long ids), so clients cycling ids grew it
 * without bound. Same behaviour as aedes-persistence's, except that a client without packets has no
 * entry: an emptied queue is dropped, and an acknowledgement for nothing creates nothing.
 */
import { Readable } from "node:stream";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";

/** What aedes stores: its Packet, identified by broker id and counter, and a message id once sent. */
export interface QueuedPacket {
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
  [field: string]: unknown;
}

interface ClientRef {
  readonly id: string;
}

export class OutgoingQueues {
  readonly #queues = new Map<string, QueuedPacket[]>();

  /** Client ids with packets waiting (for tests and diagnostics). */
  get size(): number {
    return this.#queues.size;
  }

  /** Whether the client has packets waiting (its session holds state: broker/memory-store.ts). */
  holds(clientId: string): boolean {
    return (this.#queues.get(clientId)?.length ?? 0) > 0;
  }

  enqueue(clientId: string, packet: object): void {
    const queue = this.#queues.get(clientId);
    const copy = new MemoryPersistence.Packet(packet) as QueuedPacket;
    if (queue) queue.push(copy);
    else this.#queues.set(clientId, [copy]);
  }

  /**
   * Gives a queued packet its message id once it is sent (found by broker id and counter), or puts
   * a PUBREL in the place of the PUBLISH it follows (same message id). Throws when nothing matches,
   * as aedes expects.
   */
  update(client: ClientRef, packet: QueuedPacket): void {
    const queue = this.#queues.get(client.id) ?? [];
    for (let i = 0; i < queue.length; i++) {
      const queued = queue[i]!;
      if (queued.brokerId === packet.brokerId) {
        // Message ids wrap at 65535: only the counter identifies the packet.
        if (queued.brokerCounter === packet.brokerCounter) {
          queued.messageId = packet.messageId;
          return;
        }
      } else if (queued.messageId === packet.messageId) {
        queue[i] = packet;
        return;
      }
    }
    throw new Error("no such packet");
  }

  /** Removes and returns the packet with this message id (acknowledged), if there is one. */
  clear(client: ClientRef, packet: { messageId?: number }): QueuedPacket | undefined {
    const queue = this.#queues.get(client.id);
    if (!queue) return undefined;
    const i = queue.findIndex((queued) => queued.messageId === packet.messageId);
    if (i < 0) return undefined;
    const [removed] = queue.splice(i, 1);
    if (queue.length === 0) this.#queues.delete(client.id);
    return removed;
  }

  /** Drops the client's whole queue (its session expired); returns how many packets it held. */
  drop(clientId: string): number {
    const n = this.#queues.get(clientId)?.length ?? 0;
    this.#queues.delete(clientId);
    return n;
  }

  /** The client's queue as it is now (a copy: clearing while reading it is safe). */
  stream(client: ClientRef): Readable {
    return Readable.from([...(this.#queues.get(client.id) ?? [])]);
  }
}
