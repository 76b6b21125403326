/**
 * The cap on messages a persistent session (clean session 0) holds: QoS 1/2 messages stored for the
 * client, offline or not yet acknowledged. Aedes stores them without bound, so a client that
 * subscribed once and never came back made the broker keep everything it matched. Past the cap new
 * messages for that client are dropped (the oldest are kept, in order), as Mosquitto's
 * max_queued_messages does; logged once when a client's queue fills, again only after it has
 * drained to half.
 *
 * A client connected when its queue is full still gets new messages as they come: Aedes writes each
 * message it routes to a connected client, after asking the store to give it its packet id, which a
 * message never stored does not have. That refusal (the stores' `no such packet`) is taken here as
 * the message going out unkept, in its order, instead of Aedes's error that cut the client; what
 * waits on its socket is bounded by the broker's byte limit and drain timeout (broker/outbound.ts).
 * Such a message is not sent again after a reconnect.
 *
 * The count is kept beside the store: one per message stored, less one per message the store
 * clears (acknowledged, or dropped at a reconnect). What a LevelDB store holds when the broker starts
 * is counted then; Redis's is not counted until it is cleared, so there the cap can be late, never
 * early.
 */
import type { Logger } from "pino";
import { SerialByKey } from "../node/serial-by-key.js";

interface QueueSub {
  readonly clientId: string;
}

/** What of an aedes persistence this wraps: its three outgoing-queue methods. */
export interface OutgoingQueue {
  outgoingEnqueue(sub: QueueSub, packet: unknown): Promise<unknown>;
  outgoingEnqueueCombi(subs: QueueSub[], packet: unknown): Promise<unknown>;
  outgoingClearMessageId(client: { readonly id: string }, packet: unknown): Promise<unknown>;
  outgoingUpdate(client: { readonly id: string }, packet: unknown): Promise<void>;
  /** A session's queue dropped whole (broker/session-expiry.ts). */
  dropQueue?(clientId: string): Promise<number>;
  /** Messages held for each session when the broker starts (LevelDB). */
  queuedCounts?(): Promise<ReadonlyMap<string, number>>;
}

/** What all three stores (memory, LevelDB, Redis) throw for a packet they do not hold. */
const NO_SUCH_PACKET = "no such packet";

/** What the counts say, for the broker's `/metrics` (read when scraped). */
export interface SessionQueueFigures {
  /** The cap on one session's queue (`--max-queued-messages`). */
  readonly cap: number;
  /** Messages held for sessions now, acknowledged or waiting for an away client (as the cap counts them). */
  queued(): number;
  /** The most messages one session holds now. */
  largest(): number;
  /** Sessions at the cap now (told once in the log; they have room again once drained to half). */
  full(): number;
  /** Messages not kept for a session at its cap, since the start. */
  dropped(): number;
}

/**
 * Replaces the store's enqueue and clear methods (on this instance) with counted ones, counting what
 * it holds already where it can tell; returns the counts' figures.
 */
export async function limitSessionQueues(
  store: OutgoingQueue,
  opts: { readonly maxQueuedMessagesPerClient: number },
  logger: Logger,
): Promise<SessionQueueFigures> {
  const maxMessages = opts.maxQueuedMessagesPerClient;
  const counts = new Map((await store.queuedCounts?.()) ?? []);
  const full = new Set<string>();
  let queued = 0;
  let dropped = 0;
  for (const [clientId, n] of counts) {
    queued += n;
    if (n < maxMessages) continue;
    full.add(clientId);
    logger.warn(
      { clientId, limit: maxMessages, held: n },
      "session queue full since before the start: new messages for this client are not kept (sent only while it is connected)",
    );
  }
  const enqueue = store.outgoingEnqueue.bind(store);
  const clear = store.outgoingClearMessageId.bind(store);
  const update = store.outgoingUpdate.bind(store);

  const admit = (sub: QueueSub): boolean => {
    const n = counts.get(sub.clientId) ?? 0;
    if (n < maxMessages) {
      counts.set(sub.clientId, n + 1);
      queued++;
      return true;
    }
    dropped++;
    if (!full.has(sub.clientId)) {
      full.add(sub.clientId);
      logger.warn(
        { clientId: sub.clientId, limit: maxMessages },
        "session queue full: new messages for this client are not kept (sent only while it is connected)",
      );
    }
    return false;
  };

  store.outgoingEnqueue = async (sub, packet) => {
    if (admit(sub)) await enqueue(sub, packet);
  };
  // Both stores' own combi enqueues each subscription alone; doing so here counts each exactly once.
  store.outgoingEnqueueCombi = async (subs, packet) => {
    await Promise.all(subs.filter(admit).map((sub) => enqueue(sub, packet)));
  };
  // A message not stored for a client at its cap has no record to give a packet id to: it goes out
  // unkept (the packet's id is already set), where Aedes would take the store's refusal as the
  // client's error and cut it. Known by the stores' words, not by the client being at its cap now:
  // its queue may have drained below half since, and a message Aedes stored always has its record.
  // One client's updates finish in the order they began, as Aedes writes each message once its
  // update is done: a refusal comes back sooner than a stored message's update, and would send the
  // message ahead of those before it. (Aedes takes what an update resolves to as an error: nothing.)
  const updates = new SerialByKey<string>();
  store.outgoingUpdate = (client, packet) =>
    updates.run(client.id, async () => {
      try {
        await update(client, packet);
      } catch (err) {
        if (!(err instanceof Error && err.message === NO_SUCH_PACKET)) throw err;
      }
    });
  const drop = store.dropQueue?.bind(store);
  if (drop)
    store.dropQueue = async (clientId) => {
      const n = await drop(clientId);
      queued -= counts.get(clientId) ?? 0;
      counts.delete(clientId);
      full.delete(clientId);
      return n;
    };
  store.outgoingClearMessageId = async (client, packet) => {
    const cleared = await clear(client, packet);
    if (cleared === undefined || cleared === null) return cleared;
    const had = counts.get(client.id) ?? 0;
    // One the store held from before the start is not in the count (see above): nothing to take off.
    if (had > 0) queued--;
    const n = had - 1;
    if (n > 0) counts.set(client.id, n);
    else counts.delete(client.id);
    // Told again only once it has drained to half, not after every acknowledgement at the cap.
    if (n <= maxMessages / 2 && full.delete(client.id)) {
      logger.info({ clientId: client.id }, "session queue has room again");
    }
    return cleared;
  };
  return {
    cap: maxMessages,
    queued: () => queued,
    largest: () => {
      let most = 0;
      for (const n of counts.values()) if (n > most) most = n;
      return most;
    },
    full: () => full.size,
    dropped: () => dropped,
  };
}
