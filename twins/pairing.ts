/**
 * Pairing plans: what to send a node so that whom it follows becomes whom it should follow. Pure.
 */
import { MAX_FOLLOWS, type NodeId } from "../protocol/index.js";
import { TwinsCommandError } from "./api.js";

/** A pair refused because the follower already follows the protocol's limit: whom it follows. */
export class FollowLimitError extends TwinsCommandError {
  constructor(
    readonly follower: NodeId,
    readonly sources: readonly NodeId[],
  ) {
    super(
      `${follower} already follows ${MAX_FOLLOWS} nodes (${sources.join(", ")}), the protocol's limit: unpair one of them first`,
    );
  }
}

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
export function pairError(
  follower: NodeId,
  source: NodeId,
  desired: readonly NodeId[],
): TwinsCommandError | undefined {
  if (follower === source) return new TwinsCommandError(`a node cannot follow itself (${follower})`);
  if (desired.includes(source)) return undefined;
  if (desired.length >= MAX_FOLLOWS) return new FollowLimitError(follower, desired);
  return undefined;
}
