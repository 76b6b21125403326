/**
 * The cap on retained messages: how many topics, and how many bytes of topics and payloads, the
 * broker keeps (`maxRetainedMessages`, `maxRetainedBytes`). Without it a client on the LAN that
 * retained large payloads on topics of its own making grew the broker's memory (every retained
 * message is held in memory, broker/retained-index.ts) and its data directory without bound. Past
 * the cap a retained message on a new topic is still delivered to the subscribers of the moment, but
 * not kept; a topic that already has one always takes its replacement (a node's report, config or
 * status must never go stale because someone else filled the store) and its clearing. Logged once
 * when the cap is reached, and again once the store is back under nine tenths of it.
 */
import type { Logger } from "pino";
import { isOwn, type RetainedIndex, type RetainedPacket, retainedWeight } from "./retained-index.js";

/** What of an aedes persistence this wraps. */
export interface RetainedStore {
  storeRetained(packet: RetainedPacket): Promise<void>;
}

export interface RetainedLimits {
  readonly maxRetainedMessages: number;
  readonly maxRetainedBytes: number;
}

/** Replaces the store's storeRetained (on this instance) with one that keeps to `limits`. */
export function limitRetained(
  store: RetainedStore,
  index: RetainedIndex,
  limits: RetainedLimits,
  logger: Logger,
  refused: () => void = () => {},
): void {
  const storeRetained = store.storeRetained.bind(store);
  let full = false;
  store.storeRetained = async (packet) => {
    // The broker's own start id (broker/start-id.ts) is always kept: not a client's to fill the store with.
    if (packet.payload.length > 0 && !isOwn(packet.topic) && index.get(packet.topic) === undefined) {
      const weight = retainedWeight(packet);
      if (index.size + 1 > limits.maxRetainedMessages || index.bytes + weight > limits.maxRetainedBytes) {
        refused();
        if (!full) {
          full = true;
          logger.warn(
            {
              topic: packet.topic,
              retained: index.size,
              retainedBytes: index.bytes,
              maxRetained: limits.maxRetainedMessages,
              maxRetainedBytes: limits.maxRetainedBytes,
            },
            "retained store full: a retained message on a new topic is delivered but not kept (--max-retained, --max-retained-bytes)",
          );
        }
        return;
      }
    }
    await storeRetained(packet);
    if (
      full &&
      index.size <= 0.9 * limits.maxRetainedMessages &&
      index.bytes <= 0.9 * limits.maxRetainedBytes
    ) {
      full = false;
      logger.info({ retained: index.size, retainedBytes: index.bytes }, "retained store has room again");
    }
  };
}
