/**
 * An empty payload on a retained topic: the retained message was cleared, and the broker no longer
 * holds it (protocol §6). The report or config it held is forgotten; presence is not (it also comes
 * from registers, and a cleared status does not say the node left). Not bad input. A cleared config
 * with a pairing desired makes that pairing pending again: the node still follows its sources, but
 * reads them back from the broker at its next boot, so it is asked to write its config again.
 */
import { assertNever, type NodeId, type Prefix, parseTopic } from "../protocol/index.js";
import type { ConvergenceInputs } from "./convergence-inputs.js";
import type { FollowGraph } from "./follow-graph.js";
import { followed, type TwinRecord } from "./twin-record.js";
import { followedSourcesMoved } from "./twin-versions.js";

export type ClearedEffect =
  | {
      readonly type: "updated";
      readonly node: NodeId;
      readonly change: "report" | "config" | "desired" | "followers";
    }
  | { readonly type: "desired-changed" | "reconcile"; readonly node: NodeId };

/**
 * What clearing `topic` changed in `twins`: the report or config forgotten. Undefined when the topic
 * is not a node's report, config or status: then the empty payload is bad input.
 */
export function clearedEffects(
  topic: string,
  prefix: Prefix,
  twins: Map<NodeId, TwinRecord>,
  graph: FollowGraph,
  inputs: ConvergenceInputs,
): ClearedEffect[] | undefined {
  let parsed: ReturnType<typeof parseTopic>;
  try {
    parsed = parseTopic(prefix, topic);
  } catch {
    return undefined;
  }
  if (parsed.kind === "query") return undefined;
  const t = twins.get(parsed.node);
  if (t) inputs.touch(t);
  switch (parsed.kind) {
    case "report":
      // The broker holds none now (twins/broker-copy.ts), nor does the twin.
      if (t) t.brokerReport = undefined;
      if (!t?.reported) return [];
      t.reported = undefined;
      return [{ type: "updated", node: t.id, change: "report" }];
    case "config": {
      if (t) t.brokerConfig = false;
      if (!t?.config) return [];
      const before = followed(t);
      t.config = undefined;
      graph.refollow(t, before);
      return [
        { type: "updated", node: t.id, change: "config" },
        ...brokerConfigLost(t),
        ...followedSourcesMoved(twins, before, followed(t)),
      ];
    }
    case "status":
      return [];
    case "register":
    case "state":
    case "subscribe":
    case "unsubscribe":
      return undefined;
    default:
      return assertNever(parsed);
  }
}

/**
 * The broker's copy of the node's config is gone (cleared) or may have been replaced by one that
 * cannot be read (a malformed retained publish): a pairing desired and confirmed is pending again,
 * stored so, until the node — asked to by a reconcile — has written its config again. The node still
 * follows its sources; it reads them back from the broker only at its next boot.
 */
export function brokerConfigLost(t: TwinRecord): ClearedEffect[] {
  t.unattributed = false; // the config it came from is gone: nothing the node shows can confirm it
  if (!t.desiredKnown || !t.confirmed || t.desired.sources.length === 0) return [];
  t.confirmed = false;
  return [
    { type: "updated", node: t.id, change: "desired" },
    { type: "desired-changed", node: t.id },
    { type: "reconcile", node: t.id },
  ];
}
