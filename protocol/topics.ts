/**
 * Topic names: `<prefix>/<action>/<node id>` (and `<prefix>/query`), built and parsed.
 */
import { ProtocolError } from "./errors.js";
import { isNodeId, type NodeId, type Prefix } from "./ids.js";
import type { MessageKind } from "./messages.js";

export type NodeAction = Exclude<MessageKind, "query">;
const NODE_ACTIONS: ReadonlySet<string> = new Set<NodeAction>([
  "report",
  "config",
  "status",
  "register",
  "state",
  "subscribe",
  "unsubscribe",
]);

export type ParsedTopic = { readonly kind: "query" } | { readonly kind: NodeAction; readonly node: NodeId };

export function topicOf(prefix: Prefix, kind: NodeAction, node: NodeId): string;
export function topicOf(prefix: Prefix, kind: "query"): string;
export function topicOf(prefix: Prefix, kind: MessageKind, node?: NodeId): string {
  return kind === "query" ? `${prefix}/query` : `${prefix}/${kind}/${node}`;
}

/** Wildcard subscription for one action over every node, for control servers. */
export function allNodesTopic(prefix: Prefix, kind: NodeAction): string {
  return `${prefix}/${kind}/+`;
}

export function parseTopic(prefix: Prefix, topic: string): ParsedTopic {
  const parts = topic.split("/");
  if (parts[0] !== prefix) {
    throw new ProtocolError(
      "bad-topic",
      `topic ${JSON.stringify(clip(topic))} is not under prefix "${prefix}"`,
    );
  }
  const action = parts[1] ?? "";
  if (action === "query" && parts.length === 2) return { kind: "query" };
  if (!NODE_ACTIONS.has(action) || parts.length !== 3) {
    throw new ProtocolError(
      "bad-topic",
      `topic ${JSON.stringify(clip(topic))} is not <prefix>/<action>/<node id> with a known action`,
    );
  }
  const id = parts[2] ?? "";
  if (!isNodeId(id)) {
    throw new ProtocolError("bad-id", `topic ${JSON.stringify(clip(topic))} has a malformed node id`);
  }
  return { kind: action as NodeAction, node: id };
}

export function clip(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
