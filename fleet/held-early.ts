/**
 * The early word on the nodes a joined twins service holds no twin of (fleet/joined-held.ts): the run
 * judges them at its end, so a long run beside a `twinfleet twins --max-nodes` smaller than the fleet
 * showed nothing until its summary. Once the fleet has registered, the run asks once more and warns
 * then, so the operator can stop it and start the service with room for the fleet.
 *
 * The question costs a message per ~25 nodes (about 800 for 20,000 nodes), so it asks about one node
 * first: the answer carries the service's `--max-nodes` and its twin count, and a service with room
 * to spare has taken every node it heard from. Only a full service is asked about every node.
 */
import type { Scheduler } from "../node/scheduler.js";
import type { NodeId, Prefix } from "../protocol/index.js";
import { controlTopic } from "../twins/index.js";
import { askHeld, HELD_WAIT_MS, type HeldClient, type HeldReport, notHeldWords } from "./joined-held.js";

/** How many of the nodes not held the warning names. */
const NAMED = 5;

/**
 * Asks `clientId` whether it holds the registered nodes `ids`: one question when it has room, all of
 * them when it is full. Undefined with no node to ask about; `answered` 0 without an answer.
 */
export async function askHeldEarly(
  client: HeldClient,
  prefix: Prefix,
  clientId: string,
  ids: readonly NodeId[],
  sched: Scheduler,
  /** Ends the questions at once (fleet/joined-held.ts askHeld), the second not asked. */
  stop?: AbortSignal,
): Promise<HeldReport | undefined> {
  const first = ids[0];
  if (first === undefined) return undefined;
  const one = await askHeld(client, prefix, clientId, [first], sched, stop);
  if (stop?.aborted) return undefined;
  if (one.answered === 0) return one;
  if (one.maxNodes === undefined || one.twins === undefined) return undefined;
  if (one.notHeld === 0 && one.twins < one.maxNodes)
    return { ...one, asked: ids.length, answered: ids.length };
  return ids.length === 1 ? one : askHeld(client, prefix, clientId, ids, sched, stop);
}

/**
 * The warning for nodes not held soon after registration; undefined when every node asked about is
 * held. `shard`: asked by one shard of a sharded fleet, about its own nodes (fleet/shard-held.ts).
 */
export function earlyHeldLine(h: HeldReport | undefined, fleet: number, shard = false): string | undefined {
  if (h === undefined || h.notHeld === 0) return undefined;
  const whose = shard ? `this shard's ${h.asked} registered nodes` : `the ${h.asked} nodes registered`;
  const [fails, stop] = shard ? ["the merged report", "the shards"] : ["this run at its end", "the run"];
  return `${notHeldWords(h, whose, NAMED)}, and fail ${fails}; to fix it, stop ${stop} (Ctrl-C) and start the service with --max-nodes above the fleet's ${fleet}`;
}

/**
 * The warning for a joined service that answered nothing about the registered nodes: a build older
 * than the question, or a service that no longer runs, its presence kept by a broker that lost its
 * last will (Mosquitto restored from its store after a power loss). Before, a run that joined such a
 * presence said nothing until its summary, `twins hold unknown … (one older than this run does not)`.
 */
export function unansweredEarlyLine(h: HeldReport | undefined, prefix: Prefix): string | undefined {
  if (h === undefined || h.asked === 0 || h.answered > 0) return undefined;
  const clear = `mosquitto_pub -r -n -t ${controlTopic(prefix, h.clientId)}`;
  return `the twins service ${h.clientId} this run joined did not answer within ${HELD_WAIT_MS / 1000} s whether it holds the fleet's nodes: one older than this run does not answer, and one that no longer runs cannot (its presence kept by a broker that lost its last will, after a power loss). The nodes pair through their retained configs either way, but nothing takes sets or keeps the pairing while no twins service runs: if none does, stop the run (Ctrl-C), clear the presence (${clear}) and start the run again`;
}
