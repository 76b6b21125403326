/**
 * The forget request (protocol.md §3, §6 "Retiring a node"): `D1` on `<p>/forget/<id>`, from one
 * control server to the others (QoS 1, never retained), telling them a node was retired. Nodes never
 * subscribe to it.
 */
import { isNodeId, type NodeId, type Prefix } from "./ids.js";

/** The topic's action level. */
export const FORGET_ACTION = "forget";
/** The request's payload. */
export const FORGET_REQUEST = "D1";

export function forgetTopic(prefix: Prefix, node: NodeId): string {
  return `${prefix}/${FORGET_ACTION}/${node}`;
}

/** What a control server subscribes to for the forget requests of every node. */
export function forgetSubscription(prefix: Prefix): string {
  return `${prefix}/${FORGET_ACTION}/+`;
}

/** What a topic under `<p>/forget/` carries that is not a well-formed request. */
export type BadForget =
  | { readonly reason: "bad-id" }
  | { readonly reason: "bad-payload"; readonly node: NodeId };

/**
 * For a topic under `<p>/forget/`: the node a well-formed request names, or what is wrong with it.
 * Undefined for any other topic.
 */
export function readForget(
  prefix: Prefix,
  topic: string,
  payload: Uint8Array,
): { readonly node: NodeId } | { readonly bad: BadForget } | undefined {
  const head = `${prefix}/${FORGET_ACTION}/`;
  if (!topic.startsWith(head)) return undefined;
  const id = topic.slice(head.length);
  if (!isNodeId(id)) return { bad: { reason: "bad-id" } };
  if (Buffer.from(payload).toString("latin1") !== FORGET_REQUEST)
    return { bad: { reason: "bad-payload", node: id } };
  return { node: id };
}
