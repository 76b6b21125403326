/**
 * The inbound QoS 2 messages a broker holds until their PUBREL, bounded per session and in all.
 * Aedes counts them per connection (`--max-inflight`, patched), but keeps them per session: a
 * persistent session (clean session 0) that reconnected held the limit again each time (2,000 over
 * four connections at a limit of 600), and a client on the LAN leaving half-done QoS 2 flows under
 * made-up ids grew the broker without bound (20 ids × 500 messages of 30 KB: 86 → 888 MB, and as
 * much on disk with `--data`, kept across restarts). Here a session holds at most `perSession`
 * across its connections, and all sessions together at most `maxBytes` of payload; past either the
 * PUBLISH fails to its client, which aedes then disconnects (logged as a client error), and nothing
 * is stored. A clean session's state is cleared at its connect (aedes's cleanIncoming).
 *
 * The count is kept beside the store: what a LevelDB store held when the broker started is not
 * counted until it is released, so a limit can only be late after a restart, never early.
 */

/** What of an aedes persistence this wraps. */
export interface IncomingStore {
  incomingStorePacket(client: { readonly id: string }, packet: InboundPacket): Promise<unknown>;
  incomingDelPacket(client: { readonly id: string }, packet: InboundPacket): Promise<unknown>;
  cleanIncoming?(client: { readonly id: string }): Promise<unknown>;
}

interface InboundPacket {
  readonly messageId?: number;
  readonly payload?: Buffer | string;
}

class InboundLimitError extends Error {
  override readonly name = "InboundLimitError";
}

const sizeOf = (p: InboundPacket) =>
  p.payload === undefined
    ? 0
    : typeof p.payload === "string"
      ? Buffer.byteLength(p.payload)
      : p.payload.length;

/** Replaces the store's inbound methods (on this instance) with bounded, counted ones. */
export function limitInbound(store: IncomingStore, perSession: number, maxBytes: number): void {
  /** Per client id, the held messages' payload sizes by packet id. */
  const held = new Map<string, Map<number, number>>();
  let total = 0;
  const put = store.incomingStorePacket.bind(store);
  const del = store.incomingDelPacket.bind(store);
  const clean = store.cleanIncoming?.bind(store);

  const release = (id: string, messageId: number | undefined) => {
    const mine = held.get(id);
    const size = messageId === undefined ? undefined : mine?.get(messageId);
    if (mine === undefined || size === undefined || messageId === undefined) return;
    mine.delete(messageId);
    total -= size;
    if (mine.size === 0) held.delete(id);
  };

  store.incomingStorePacket = async (client, packet) => {
    const id = packet.messageId ?? 0;
    const mine = held.get(client.id);
    if (mine?.has(id) !== true) {
      const size = sizeOf(packet);
      if ((mine?.size ?? 0) >= perSession) {
        throw new InboundLimitError(
          `--max-inflight: session ${client.id} holds ${perSession} inbound QoS 2 messages awaiting PUBREL, across its connections`,
        );
      }
      if (total + size > maxBytes) {
        throw new InboundLimitError(
          `--max-inbound-bytes: the inbound QoS 2 messages awaiting PUBREL hold ${total} bytes of all sessions' ${maxBytes}`,
        );
      }
      // Taken before the write: the next PUBLISH may be counted while this one is being stored.
      const now = mine ?? new Map<number, number>();
      held.set(client.id, now);
      now.set(id, size);
      total += size;
      try {
        return await put(client, packet);
      } catch (err) {
        release(client.id, id);
        throw err;
      }
    }
    return put(client, packet);
  };
  store.incomingDelPacket = async (client, packet) => {
    const result = await del(client, packet);
    release(client.id, packet.messageId);
    return result;
  };
  if (clean !== undefined)
    store.cleanIncoming = async (client) => {
      const result = await clean(client);
      const mine = held.get(client.id);
      if (mine !== undefined) {
        for (const size of mine.values()) total -= size;
        held.delete(client.id);
      }
      return result;
    };
}
