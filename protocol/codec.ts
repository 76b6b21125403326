/**
 * The payload grammar: encodes messages to (topic, payload) and decodes received bytes back, with a
 * ProtocolError naming the reason for anything malformed. Never throws anything else on any input.
 */

import { ProtocolError } from "./errors.js";
import { isNodeId, type NodeId, type Prefix } from "./ids.js";
import {
  MAX_COUNTER,
  MAX_FOLLOWS,
  MAX_PACKET_BYTES,
  PROTOCOL_VERSION,
  publishPacketBytes,
} from "./limits.js";
import {
  type Message,
  type MessageKind,
  NODE_KINDS,
  NODE_READS_AT_QOS1,
  type NodeKind,
  RETAINED_KINDS,
  TAG_LETTER,
} from "./messages.js";
import { assertNever } from "./never.js";
import { quickReport } from "./quick-report.js";
import { clip, type ParsedTopic, parseTopic, topicOf } from "./topics.js";

export interface Encoded {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly qos: 0 | 1;
}

const COUNTER_RE = /^(0|[1-9][0-9]{0,9})$/;
const PROFILE_RE = /^[a-z0-9-]{1,16}$/;
const FIRMWARE_RE = /^[0-9A-Za-z.+-]{1,12}$/;
const PRINTABLE_RE = /^[\x21-\x7e]+( [\x21-\x7e]+)*$/;

/** Each kind's tag (its letter and the protocol version), made once: it is checked on every message. */
const TAG = Object.fromEntries(
  Object.entries(TAG_LETTER).map(([kind, letter]) => [kind, `${letter}${PROTOCOL_VERSION}`]),
) as Readonly<Record<MessageKind, string>>;

/** Builds the topic and payload of a message. Nodes publish at QoS 0; commands go at QoS 1. */
export function encode(prefix: Prefix, msg: Message): Encoded {
  const retain = RETAINED_KINDS.has(msg.kind);
  const tag = TAG[msg.kind];
  switch (msg.kind) {
    case "report":
      return node(msg.node, `${tag} ${bit(msg.on)} ${msg.stamp.counter} ${msg.stamp.origin}`, 0);
    case "config":
      return node(msg.node, [tag, String(msg.version), ...msg.sources].join(" "), 0);
    case "status":
      return node(msg.node, `${tag} ${bit(msg.online)}`, 0);
    case "register":
      return node(msg.node, `${tag} ${msg.nodeKind} ${msg.profile} ${msg.firmware}`, 0);
    case "state":
      return node(msg.node, `${tag} ${bit(msg.on)} ${msg.counter}`, 1);
    case "subscribe":
    case "unsubscribe":
      return node(msg.node, `${tag} ${msg.source}`, 1);
    case "query":
      return { topic: topicOf(prefix, "query"), payload: tag, retain, qos: 1 };
    default:
      assertNever(msg);
  }
  function node(id: NodeId, payload: string, qos: 0 | 1): Encoded {
    return { topic: topicOf(prefix, msg.kind as Exclude<MessageKind, "query">, id), payload, retain, qos };
  }
}

/**
 * Decodes a received PUBLISH. `qos` is the QoS it arrived at (it decides the packet's size).
 * Throws ProtocolError with the reason; anything else thrown would be a bug.
 */
export function decode(prefix: Prefix, topic: string, payload: Uint8Array | string, qos: 0 | 1 = 0): Message {
  const text = typeof payload === "string" ? payload : latin1(payload);
  const payloadBytes = typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.length;
  const size = publishPacketBytes(Buffer.byteLength(topic, "utf8"), payloadBytes, qos);
  if (size > MAX_PACKET_BYTES) {
    const at = qos > 0 ? " at QoS 1" : "";
    throw new ProtocolError(
      "too-long",
      `packet of ${size} bytes${at} exceeds PubSubClient's ${MAX_PACKET_BYTES}`,
    );
  }
  return decodePayload(parseTopic(prefix, topic), text);
}

/**
 * Decodes a PUBLISH as the node it is for may receive it: its size is judged at the larger of the
 * QoS it arrived at and the QoS the node reads its kind at. An observer reading at QoS 0 cannot tell
 * which QoS the writer used, and a config written at QoS 1 reaches its node with a packet id: 2 bytes
 * more, which may be more than PubSubClient holds. What nodes publish (QoS 0, every kind's largest
 * well-formed message fits at QoS 1 too) is not affected.
 */
export function decodeAsNodeReads(
  prefix: Prefix,
  topic: string,
  payload: Uint8Array | string,
  qos: 0 | 1 = 0,
): Message {
  return decode(prefix, topic, payload, qos > 0 || NODE_READS_AT_QOS1.has(actionOf(topic)) ? 1 : 0);
}

/** The second level of a topic (its action when it is one of §3's), read by its separators. */
function actionOf(topic: string): MessageKind {
  const a = topic.indexOf("/");
  const b = a < 0 ? -1 : topic.indexOf("/", a + 1);
  return (a < 0 ? "" : b < 0 ? topic.slice(a + 1) : topic.slice(a + 1, b)) as MessageKind;
}

/** The bytes as latin1 text, read in place (Buffer.from of a Uint8Array would copy them first). */
function latin1(bytes: Uint8Array): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString("latin1");
}

function decodePayload(t: ParsedTopic, text: string): Message {
  if (t.kind === "report") {
    const quick = quickReport(t.node, text);
    if (quick !== undefined) return quick;
  }
  if (!PRINTABLE_RE.test(text)) {
    throw bad(t.kind, text, "must be printable ASCII fields separated by single spaces");
  }
  // The tag taken off the front of the fields in place: what is left are the arguments.
  const args = text.split(" ");
  checkTag(t.kind, args.shift() ?? "", text);
  switch (t.kind) {
    case "query":
      arity(t.kind, args, 0, text);
      return { kind: "query" };
    case "report":
      arity(t.kind, args, 3, text);
      return {
        kind: "report",
        node: t.node,
        on: value(t.kind, args[0], text),
        stamp: { counter: counter(t.kind, args[1], text), origin: id(t.kind, args[2]) },
      };
    case "config": {
      if (args.length < 1 || args.length > 1 + MAX_FOLLOWS) {
        throw bad(t.kind, text, `needs a version and at most ${MAX_FOLLOWS} sources`);
      }
      const sources = args.slice(1).map((s) => id(t.kind, s));
      if (new Set(sources).size !== sources.length) throw bad(t.kind, text, "repeats a source");
      if (sources.includes(t.node)) throw bad(t.kind, text, "lists the node itself");
      return { kind: "config", node: t.node, version: counter(t.kind, args[0], text), sources };
    }
    case "status":
      arity(t.kind, args, 1, text);
      return { kind: "status", node: t.node, online: value(t.kind, args[0], text) };
    case "register": {
      arity(t.kind, args, 3, text);
      const [k, profile, firmware] = args as [string, string, string];
      if (!(NODE_KINDS as readonly string[]).includes(k))
        throw bad(t.kind, text, `kind must be ${NODE_KINDS.join("|")}`);
      if (!PROFILE_RE.test(profile)) throw bad(t.kind, text, "profile must be 1-16 of a-z 0-9 -");
      if (!FIRMWARE_RE.test(firmware)) throw bad(t.kind, text, "firmware must be 1-12 of A-Z a-z 0-9 . + -");
      return { kind: "register", node: t.node, nodeKind: k as NodeKind, profile, firmware };
    }
    case "state":
      arity(t.kind, args, 2, text);
      return {
        kind: "state",
        node: t.node,
        on: value(t.kind, args[0], text),
        counter: counter(t.kind, args[1], text),
      };
    case "subscribe":
    case "unsubscribe":
      arity(t.kind, args, 1, text);
      return { kind: t.kind, node: t.node, source: id(t.kind, args[0]) };
    default:
      assertNever(t);
  }
}

function checkTag(kind: MessageKind, tag: string, text: string): void {
  if (tag === TAG[kind]) return;
  const letter = TAG_LETTER[kind];
  if (tag.length === 2 && tag[0] === letter && /[0-9]/.test(tag[1] ?? "")) {
    throw new ProtocolError(
      "wrong-version",
      `${kind} payload has protocol version ${tag[1]}, expected ${PROTOCOL_VERSION}`,
    );
  }
  throw bad(kind, text, `must start with the tag ${letter}${PROTOCOL_VERSION}`);
}

function arity(kind: MessageKind, args: readonly string[], n: number, text: string): void {
  if (args.length !== n)
    throw bad(kind, text, `needs ${n} field${n === 1 ? "" : "s"} after the tag, has ${args.length}`);
}

function value(kind: MessageKind, s: string | undefined, text: string): boolean {
  if (s === "1") return true;
  if (s === "0") return false;
  throw bad(kind, text, "value must be 0 or 1");
}

function counter(kind: MessageKind, s: string | undefined, text: string): number {
  if (s === undefined || !COUNTER_RE.test(s) || Number(s) > MAX_COUNTER) {
    throw bad(kind, text, `counter must be a decimal from 0 to ${MAX_COUNTER} without leading zeros`);
  }
  return Number(s);
}

function id(kind: MessageKind, s: string | undefined): NodeId {
  if (s !== undefined && isNodeId(s)) return s;
  throw new ProtocolError(
    "bad-id",
    `${kind} payload has a malformed node id ${JSON.stringify(clip(s ?? ""))}`,
  );
}

function bad(kind: MessageKind, text: string, why: string): ProtocolError {
  return new ProtocolError("bad-payload", `${kind} payload ${JSON.stringify(clip(text))} ${why}`);
}

function bit(b: boolean): string {
  return b ? "1" : "0";
}
