/**
 * The protocol's messages as a discriminated union, one variant per topic action.
 */
import type { NodeId } from "./ids.js";
import { COUNTER_CEILING } from "./limits.js";
import { assertNever } from "./never.js";
import type { Stamp } from "./stamp.js";

export const NODE_KINDS = ["real", "sim", "host"] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** A node's own state report; retained, re-published unchanged by followers that apply it. */
export interface ReportMessage {
  readonly kind: "report";
  readonly node: NodeId;
  readonly on: boolean;
  readonly stamp: Stamp;
}
/** A node's pairing: the sources it follows, under a version; retained. */
export interface ConfigMessage {
  readonly kind: "config";
  readonly node: NodeId;
  readonly version: number;
  readonly sources: readonly NodeId[];
}
/** Presence; `online: false` is the last will. Retained. */
export interface StatusMessage {
  readonly kind: "status";
  readonly node: NodeId;
  readonly online: boolean;
}
export interface RegisterMessage {
  readonly kind: "register";
  readonly node: NodeId;
  readonly nodeKind: NodeKind;
  readonly profile: string;
  readonly firmware: string;
}
/** Control → node: set the state; `counter` is the highest counter the sender has seen. */
export interface StateMessage {
  readonly kind: "state";
  readonly node: NodeId;
  readonly on: boolean;
  readonly counter: number;
}
export interface SubscribeMessage {
  readonly kind: "subscribe";
  readonly node: NodeId;
  readonly source: NodeId;
}
export interface UnsubscribeMessage {
  readonly kind: "unsubscribe";
  readonly node: NodeId;
  readonly source: NodeId;
}
export interface QueryMessage {
  readonly kind: "query";
}

export type Message =
  | ReportMessage
  | ConfigMessage
  | StatusMessage
  | RegisterMessage
  | StateMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | QueryMessage;

export type MessageKind = Message["kind"];

/** Tag letter of each kind: the first payload field is `<letter>1`. */
export const TAG_LETTER: Readonly<Record<MessageKind, string>> = {
  report: "R",
  config: "C",
  status: "T",
  register: "G",
  state: "S",
  subscribe: "F",
  unsubscribe: "U",
  query: "Q",
};

/** Kinds a node publishes (QoS 0) vs. kinds a control server sends (QoS 1). */
export const RETAINED_KINDS: ReadonlySet<MessageKind> = new Set(["report", "config", "status"]);
export const COMMAND_KINDS: ReadonlySet<MessageKind> = new Set([
  "state",
  "subscribe",
  "unsubscribe",
  "query",
]);
/**
 * Kinds a node reads on its own topics at QoS 1 (node/core.ts): a copy published to it at QoS 1
 * reaches it with the 2-byte packet id, which counts towards PubSubClient's 256 bytes.
 */
export const NODE_READS_AT_QOS1: ReadonlySet<MessageKind> = new Set([
  "config",
  "report",
  "state",
  "subscribe",
  "unsubscribe",
]);

/**
 * Why a message's counter or config version is one a node drops (above COUNTER_CEILING, §4), in
 * words naming which; undefined for any other message.
 */
export function aboveCeiling(msg: Message): string | undefined {
  const n = counterOf(msg);
  if (n <= COUNTER_CEILING) return undefined;
  return `${msg.kind === "config" ? "config version" : "counter"} ${n} is above the ceiling ${COUNTER_CEILING}`;
}

/** The counter or config version a message carries (§4); 0 for none. */
function counterOf(msg: Message): number {
  switch (msg.kind) {
    case "report":
      return msg.stamp.counter;
    case "state":
      return msg.counter;
    case "config":
      return msg.version;
    case "status":
    case "register":
    case "subscribe":
    case "unsubscribe":
    case "query":
      return 0;
    default:
      return assertNever(msg);
  }
}
