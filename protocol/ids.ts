/**
 * Branded names of the protocol — node ids and topic prefixes — with the validators that make them.
 */
import { ProtocolError } from "./errors.js";
import { MAX_ID_LENGTH, MAX_PREFIX_LENGTH } from "./limits.js";

export type NodeId = string & { readonly __brand: "NodeId" };
export type Prefix = string & { readonly __brand: "Prefix" };

const ID_RE = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_ID_LENGTH}}$`);
const PREFIX_RE = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_PREFIX_LENGTH}}$`);

export function isNodeId(s: string): s is NodeId {
  return ID_RE.test(s);
}

/** Validates a node id; throws ProtocolError("bad-id") naming what is wrong. */
export function NodeId(s: string): NodeId {
  if (isNodeId(s)) return s;
  const why =
    s.length === 0
      ? "is empty"
      : s.length > MAX_ID_LENGTH
        ? `is ${s.length} characters long (at most ${MAX_ID_LENGTH})`
        : "may contain only A-Z a-z 0-9 _ -";
  throw new ProtocolError("bad-id", `node id ${JSON.stringify(s.slice(0, 40))} ${why}`);
}

export function Prefix(s: string): Prefix {
  if (PREFIX_RE.test(s)) return s as Prefix;
  throw new ProtocolError(
    "bad-topic",
    `topic prefix ${JSON.stringify(s.slice(0, 40))} must be 1-${MAX_PREFIX_LENGTH} characters of A-Z a-z 0-9 _ -`,
  );
}

/** Byte-wise comparison, as C's strcmp on ASCII ids. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
