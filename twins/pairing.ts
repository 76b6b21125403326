/**
 * Pairing plans: what to send a node so that whom it follows becomes whom it should follow. Pure.
 */
import { MAX_FOLLOWS, type NodeId } from "../protocol/index.js";

export interface PairingPlan {
  /** Sent first, so a node near its follow limit has room for the new sources. */
  readonly unfollow: readonly NodeId[];
  readonly follow: readonly NodeId[];
}

export function planPairing(desired: readonly NodeId[], reported: readonly NodeId[]): PairingPlan {
  return {
    unfollow: reported.filter((s) => !desired.includes(s)),
    follow: desired.filter((s) => !reported.includes(s)),
  };
}

/** Why `follower` cannot follow `source` given its desired sources, or undefined when it can. */
export function pairError(follower: NodeId, source: NodeId, desired: readonly NodeId[]): string | undefined {
  if (follower === source) return `a node cannot follow itself (${follower})`;
  if (desired.includes(source)) return undefined;
  if (desired.length >= MAX_FOLLOWS) {
    return `${follower} already follows ${MAX_FOLLOWS} nodes (${desired.join(", ")}), the protocol's limit`;
  }
  return undefined;
}
