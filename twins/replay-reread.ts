/**
 * The re-read of a replay the broker cut (twins/replay-cut.ts), node by node, and its warning. A cut
 * SUBSCRIBE of `<prefix>/<kind>/+` leaves the nodes past the cut without that kind's retained message:
 * the service's twins of them lack a config, status or report until the node sends it again, and a
 * node that stays quiet stays missing. The topics of the nodes the service knows (its store, and the
 * nodes any replay told) are asked for again in SUBSCRIBEs of at most FILTERS_PER_SUBSCRIBE - 1
 * filters, each checked as the first read was, and unsubscribed at once; a SUBSCRIBE cut again gives
 * back what came and its rest is asked for in smaller ones (halved, and no larger than what came),
 * down to one topic, which Mosquitto queues whatever its size, so the re-read ends; and at most
 * REREAD_MAX_SUBSCRIBES SUBSCRIBEs, what is left then told unread. Measured on Mosquitto 2.0.11 at
 * `max_queued_bytes 200` beside 300 nodes: the 66 topics the replay cut of the 50 nodes it told
 * came in 6 SUBSCRIBEs; a service whose store held the 300, every one of their 900 topics. What is
 * left unread is kept (ReplayCut.unread) for the put-back's look, which takes none of those reports
 * for lost: on a restarted broker it put the twins' back over the broker's copies, newer or not. A node whose every retained message was cut is not known, and cannot be asked for by
 * name: it is read when it is heard live (a status, report, or its answer to the query).
 */
import { type NodeAction, type NodeId, type Prefix, parseTopic, topicOf } from "../protocol/index.js";
import type { ReplayCut, Unsubscriber } from "./replay-cut.js";
import type { Subscriber } from "./subscriptions.js";
import type { ReplayCutTold } from "./types.js";

/** The most SUBSCRIBEs one re-read sends (one round trip each): 3,000 nodes' three kinds fit at 200 bytes a queue. */
export const REREAD_MAX_SUBSCRIBES = 2000;

/** The nodes' topics a cut filter stands for: a wildcard's, of each node known; a node's own, itself. */
export function cutTopics(prefix: Prefix, cut: readonly string[], known: readonly NodeId[]): string[] {
  const kindOf = (filter: string): NodeAction | undefined => {
    const wild = /^(.*)\/([^/]+)\/\+$/.exec(filter);
    return wild?.[1] === prefix ? (wild[2] as NodeAction) : undefined;
  };
  const topics = cut.flatMap((f) => {
    const kind = kindOf(f);
    return kind !== undefined ? known.map((id) => topicOf(prefix, kind, id)) : [f];
  });
  return [...new Set(topics)];
}

/** Asks again for `topics` not come yet, as the module header says; returns how it went. */
export async function reread(
  client: Subscriber & Unsubscriber,
  cut: ReplayCut,
  topics: readonly string[],
  /** The most filters a SUBSCRIBE (FILTERS_PER_SUBSCRIBE - 1: the check's copy is one more). */
  per: number,
  max = REREAD_MAX_SUBSCRIBES,
): Promise<{ subscribes: number; unread: string[] }> {
  const pending = topics.filter((t) => !cut.cameRetained(t));
  const unread: string[] = [];
  let size = per;
  let subscribes = 0;
  while (pending.length > 0) {
    if (subscribes >= max) {
      unread.push(...pending.splice(0));
      break;
    }
    const batch = pending.splice(0, size);
    subscribes++;
    if (await cut.whole(client, batch, true)) continue;
    const missed = batch.filter((t) => !cut.cameRetained(t));
    if (missed.length === 0) continue;
    // One topic alone cut: its message is larger than the queue, and asking again changes nothing.
    if (batch.length === 1) {
      unread.push(...missed);
      continue;
    }
    size = Math.max(1, Math.min(Math.floor(batch.length / 2), batch.length - missed.length));
    pending.unshift(...missed);
  }
  return { subscribes, unread };
}

/** The service's warning of a cut read, after its re-read. */
export function replayCutLine(url: string, prefix: Prefix, t: ReplayCutTold): string {
  const what = t.cut.length <= 4 ? t.cut.join(", ") : `${t.cut.length} topic filters`;
  const done =
    t.unread.length === 0
      ? `asked again node by node (${t.asked} topics of the nodes it knows, ${t.subscribes} SUBSCRIBEs), each came`
      : `asked again node by node (${t.asked} topics of the nodes it knows, ${t.subscribes} SUBSCRIBEs), ${t.unread.length} still did not come (${unreadNodes(prefix, t.unread)}), unknown, not lost: no twin's report is put back over them`;
  return `twins: the broker at ${url} cut its replay of the retained messages on ${what} (the retained $SYS/broker/version asked for after them never came), dropping what did not fit this service's queue (Mosquitto's max_queued_bytes, max_queued_messages): the service read ${t.nodes} ${t.nodes === 1 ? "node" : "nodes"}; ${done}; a node none of whose retained messages came is not known until it is heard live; set max_queued_bytes 0 and max_queued_messages 0 in mosquitto.conf (docs/mosquitto.md, "Queues")`;
}

function unreadNodes(prefix: Prefix, unread: readonly string[]): string {
  const ids = unread.slice(0, 3).map((t) => {
    const p = parseTopic(prefix, t);
    return p.kind === "query" ? t : `${p.kind} of ${p.node}`;
  });
  return unread.length > 3 ? `${ids.join(", ")} and ${unread.length - 3} more` : ids.join(", ");
}
