/**
 * An empty payload on a retained topic: the retained message was cleared, and the broker no longer
 * holds it (protocol §6). The report or config it held is forgotten; presence is not (it also comes
 * from registers, and a cleared status does not say the node left). Not bad input.
 */
import { assertNever, type NodeId, type Prefix, parseTopic } from "../protocol/index.js";
import type { ConvergenceInputs } from "./convergence-inputs.js";
import type { FollowGraph } from "./follow-graph.js";
import { followed, type TwinRecord } from "./twin-record.js";
import { bumpFollowedSources } from "./twin-versions.js";

export interface ClearedEffect {
  readonly type: "updated";
  readonly node: NodeId;
  readonly change: "report" | "config";
}

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
      if (!t?.reported) return [];
      t.reported = undefined;
      return [{ type: "updated", node: t.id, change: "report" }];
    case "config": {
      if (!t?.config) return [];
      const before = followed(t);
      t.config = undefined;
      graph.refollow(t, before);
      bumpFollowedSources(twins, before, followed(t));
      return [{ type: "updated", node: t.id, change: "config" }];
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
