/**
 * Which of a sharded fleet's nodes the twins service on the broker holds a twin of
 * (fleet/joined-held.ts). Each shard, before its nodes stop, asks the controller on the broker about
 * its own nodes and writes the answer in its report (`held`, optional: a report from before it
 * merges as one that asked nothing); the merge sums the shards' answers into `joinedTwins.held`, which
 * the merged summary and `--assert` judge as a one-process run's. Before, a sharded fleet beside a
 * `twinfleet twins --max-nodes 50` merged as all ok, its nodes past the 50 said nowhere.
 */
import type { Scheduler } from "../node/scheduler.js";
import type { NodeId, Prefix } from "../protocol/index.js";
import { type BrokerLogin, findTwinsServices } from "../twins/index.js";
import { askHeldEarly, earlyHeldLine } from "./held-early.js";
import { askHeld, type HeldClient, type HeldReport, NAMED } from "./joined-held.js";
import type { JoinedTwinsReport } from "./joined-watch.js";

/** How long a shard looks for the controller on the broker. */
const FIND_MS = 1000;

type Target = { readonly url: string; readonly login?: BrokerLogin; readonly prefix: Prefix };

/**
 * The client id of the controller on the broker (the first by client id), if it has one. `stop`
 * aborted ends the look at once, as none found: it used to run its course (its 1 s, its connect's 2 s
 * on a broker that accepts and never answers) after the shard's stop.
 */
async function controllerOn(
  target: Target,
  sched: Scheduler,
  stop?: AbortSignal,
): Promise<string | undefined> {
  const found = await findTwinsServices(target.url, target.prefix, {
    timeoutMs: FIND_MS,
    scheduler: sched,
    ...target.login,
    ...(stop ? { signal: stop } : {}),
  }).catch(() => []);
  return found[0]?.clientId;
}

/** Asks the twins service on the broker (the first by client id) about `ids`; undefined when none is there. */
export async function askShardHeld(
  client: HeldClient,
  target: Target,
  ids: readonly NodeId[],
  sched: Scheduler,
  stop?: AbortSignal,
): Promise<HeldReport | undefined> {
  const controller = await controllerOn(target, sched, stop);
  if (controller === undefined || ids.length === 0) return undefined;
  const h = await askHeld(client, target.prefix, controller, ids, sched, stop);
  return stop?.aborted ? undefined : h; // stopped while it asked: no answer, rather than part of one
}

/**
 * The early word of a shard (fleet/held-early.ts): once the fleet has registered, the controller on
 * the broker is asked about this shard's registered nodes — one question when it has room, all when
 * it is full — and the warning names those it holds none of. Undefined when all are held, with no
 * controller or no answer. Before, a shard said so only in its report, read at the merge.
 */
export async function shardHeldEarlyLine(
  client: HeldClient,
  target: Target,
  registered: readonly NodeId[],
  fleet: number,
  sched: Scheduler,
  stop?: AbortSignal,
): Promise<string | undefined> {
  const controller = await controllerOn(target, sched, stop);
  if (controller === undefined) return undefined;
  const h = await askHeldEarly(client, target.prefix, controller, registered, sched, stop);
  return stop?.aborted ? undefined : earlyHeldLine(h, fleet, true);
}

/** What the merge reads of a shard's `held`; a message naming what is wrong, or undefined. */
export function heldProblem(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const h = v as Record<string, unknown>;
  const num = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;
  const ok =
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    typeof h.clientId === "string" &&
    num(h.asked) &&
    num(h.answered) &&
    num(h.notHeld) &&
    Array.isArray(h.notHeldIds) &&
    h.notHeldIds.every((i) => typeof i === "string") &&
    (h.maxNodes === undefined || num(h.maxNodes)) &&
    (h.twins === undefined || num(h.twins));
  return ok
    ? undefined
    : "held must have clientId (a string), asked, answered, notHeld (whole numbers), notHeldIds (strings), and maxNodes and twins (whole numbers) if any";
}

/**
 * The shards' answers as one fleet's: the counts summed, the first ids not held (lowest first), the
 * limit and twin count of the latest shard to end with an answer. Shards that asked different
 * controllers are named with each controller. Nothing when no shard asked. The nodes of a shard that
 * asked nothing while others did (a build from before the question, or no service on the broker when
 * it ended) count as asked and not answered, its index in `unasked`: they used to be left out, and
 * the summary judged "the fleet's 100 nodes" of a 200-node fleet.
 */
export function mergeHeld(
  shards: readonly {
    readonly index: number;
    readonly endMs: number;
    readonly nodes: number;
    readonly held?: HeldReport;
  }[],
): { joinedTwins?: JoinedTwinsReport } {
  const sorted = [...shards].sort((a, b) => a.index - b.index);
  const asked = sorted.filter((s) => s.held !== undefined);
  if (asked.length === 0) return {};
  const unasked = sorted.filter((s) => s.held === undefined);
  const all = asked.map((s) => s.held as HeldReport);
  const byController = new Map<string, number[]>();
  for (const s of asked) {
    const id = (s.held as HeldReport).clientId;
    byController.set(id, [...(byController.get(id) ?? []), s.index]);
  }
  const clientId =
    byController.size === 1
      ? (all[0] as HeldReport).clientId
      : [...byController]
          .map(([id, idx]) => `${id} (shard${idx.length > 1 ? "s" : ""} ${idx.join(", ")})`)
          .join(" and ");
  const latest = [...asked]
    .filter((s) => s.held?.maxNodes !== undefined)
    .sort((a, b) => b.endMs - a.endMs)[0]?.held;
  const held: HeldReport = {
    clientId,
    asked: all.reduce((n, h) => n + h.asked, 0) + unasked.reduce((n, s) => n + s.nodes, 0),
    answered: all.reduce((n, h) => n + h.answered, 0),
    notHeld: all.reduce((n, h) => n + h.notHeld, 0),
    notHeldIds: all
      .flatMap((h) => h.notHeldIds)
      .sort()
      .slice(0, NAMED),
    ...(latest?.maxNodes !== undefined ? { maxNodes: latest.maxNodes } : {}),
    ...(latest?.twins !== undefined ? { twins: latest.twins } : {}),
    ...(unasked.length > 0 ? { unasked: unasked.map((s) => s.index) } : {}),
  };
  return { joinedTwins: { clientId, left: [], held } };
}
