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

/**
 * Reads a topic as `<prefix>/query` or `<prefix>/<action>/<node id>`; throws ProtocolError naming
 * what is wrong. It runs for every message a node or the twins receive: the topic is read by its
 * separators, without splitting it into an array of levels.
 */
export function parseTopic(prefix: Prefix, topic: string): ParsedTopic {
  const a = topic.indexOf("/");
  // The first level is the prefix: all of the topic when it has no separator.
  const first = a < 0 ? topic.length : a;
  if (first !== prefix.length || !topic.startsWith(prefix)) {
    throw new ProtocolError(
      "bad-topic",
      `topic ${JSON.stringify(clip(topic))} is not under prefix "${prefix}"`,
    );
  }
  const b = a < 0 ? -1 : topic.indexOf("/", a + 1);
  const action = a < 0 ? "" : b < 0 ? topic.slice(a + 1) : topic.slice(a + 1, b);
  if (a >= 0 && b < 0 && action === "query") return { kind: "query" };
  if (!NODE_ACTIONS.has(action) || b < 0 || topic.includes("/", b + 1)) {
    throw new ProtocolError(
      "bad-topic",
      `topic ${JSON.stringify(clip(topic))} is not <prefix>/<action>/<node id> with a known action`,
    );
  }
  const id = topic.slice(b + 1);
  if (!isNodeId(id)) {
    throw new ProtocolError("bad-id", `topic ${JSON.stringify(clip(topic))} has a malformed node id`);
  }
  return { kind: action as NodeAction, node: id };
}

export function clip(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
