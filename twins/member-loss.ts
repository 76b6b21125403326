/**
 * A member of a Redis cluster of twinfleet brokers lost (killed, or cut off from Redis), as another
 * member tells it on `$SYS/broker/member/<id>/lost` (broker/member-watch.ts): its payload is the
 * topics of the wills the lost member's clients left, one a line. The nodes among them are cut off
 * from everyone, though nobody has published their wills (the cluster's heartbeat, minutes, decides
 * that, and a node may be alive on a member cut off only from Redis): the twins shown online take
 * them as `unheard` until heard again or their will comes (twins/node-presence.ts). Every surviving
 * member tells it; the twins apply each, which changes nothing the second time.
 */
import { type NodeId, type Prefix, parseTopic } from "../protocol/index.js";

/** The topic filter of the losses (the same as broker/member-watch.ts, which twins may not import). */
export const MEMBER_LOST_TOPIC = "$SYS/broker/member/+/lost";
const HEAD = "$SYS/broker/member/";
const TAIL = "/lost";

/** A loss told: the member and the nodes with wills on it under `prefix`. */
export interface MemberLoss {
  readonly member: string;
  readonly nodes: readonly NodeId[];
}

/** Reads a message as a member's loss; undefined when it is not one. */
export function memberLoss(prefix: Prefix, topic: string, payload: Buffer): MemberLoss | undefined {
  if (!topic.startsWith(HEAD) || !topic.endsWith(TAIL)) return undefined;
  const member = topic.slice(HEAD.length, -TAIL.length);
  const nodes: NodeId[] = [];
  for (const line of payload.toString("utf8").split("\n")) {
    if (line === "") continue;
    try {
      const t = parseTopic(prefix, line);
      if (t.kind === "status") nodes.push(t.node);
    } catch {
      // another fleet's will, or another client's: not a node of this prefix
    }
  }
  return { member, nodes: [...new Set(nodes)].sort() };
}
