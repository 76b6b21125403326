/**
 * The broker's start marker: at every start, before it listens, the broker publishes its id for this
 * run (random per start: broker/level-store.ts startId, or aedes's own) retained on START_ID_TOPIC.
 * A store keeps it through a restart, as it keeps the nodes' retained statuses, but the next start
 * replaces it before any client can read it. A client that saw one id and finds another when it
 * connects again knows the broker restarted meanwhile, not only that its own connection dropped:
 * the statuses the broker replays for it were kept from before the restart, without the nodes'
 * live sessions behind them (twins/broker-restart.ts). A Redis store is shared by live brokers, each
 * with its own id: none is published there (docs/cluster.md).
 */
import type { Aedes } from "aedes";
import { publishPacket } from "./publish.js";

/** Where the broker publishes its start id (in `$SYS`, which no client may publish to: broker/acl.ts). */
export const START_ID_TOPIC = "$SYS/broker/start-id";

/** Publishes `aedes.id` retained on START_ID_TOPIC; resolves once the store has it. */
export function publishStartId(aedes: Aedes): Promise<void> {
  return publishPacket(aedes, {
    topic: START_ID_TOPIC,
    payload: Buffer.from(aedes.id),
    qos: 0,
    retain: true,
  });
}
