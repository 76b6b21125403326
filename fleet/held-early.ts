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
import { askHeld, type HeldClient, type HeldReport, notHeldWords } from "./joined-held.js";

/** How many of the nodes not held the warning names. */
const NAMED = 5;

/**
 * Asks `clientId` whether it holds the registered nodes `ids`: one question when it has room, all of
 * them when it is full. Undefined without an answer (a service older than the question: the end of
 * the run says so) or with no node to ask about.
 */
export async function askHeldEarly(
  client: HeldClient,
  prefix: Prefix,
  clientId: string,
  ids: readonly NodeId[],
  sched: Scheduler,
): Promise<HeldReport | undefined> {
  const first = ids[0];
  if (first === undefined) return undefined;
  const one = await askHeld(client, prefix, clientId, [first], sched);
  if (one.answered === 0 || one.maxNodes === undefined || one.twins === undefined) return undefined;
  if (one.notHeld === 0 && one.twins < one.maxNodes)
    return { ...one, asked: ids.length, answered: ids.length };
  return ids.length === 1 ? one : askHeld(client, prefix, clientId, ids, sched);
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
