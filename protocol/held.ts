/**
 * The held question (protocol.md §6, "Which nodes a control server holds"): a tool asks a control
 * server which of a list of nodes it holds a twin of, and the server answers with those it holds
 * none of, its most (`--max-nodes`) and how many it holds. `A1 <token> <seq> <node id>…` on
 * `<p>/control/<client id>/ask`, answered by `H1 <seq> <max nodes> <twins>[ <node id>…]` on
 * `<p>/control/<client id>/held/<token>`; both QoS 1, never retained. A fleet is asked in as many
 * questions as it takes, each sized so that it and its worst answer fit MAX_PACKET_BYTES.
 */
import { isNodeId, type NodeId, type Prefix } from "./ids.js";
import { MAX_PACKET_BYTES, publishPacketBytes } from "./limits.js";

export const HELD_ASK_TAG = "A1";
export const HELD_ANSWER_TAG = "H1";
/** The largest `seq`, `max nodes` and `twins` a question or an answer carries (2^31 − 1). */
export const HELD_MAX_NUMBER = 2_147_483_647;
/** A token is one topic level: as a node id. */
const TOKEN_RE = /^[A-Za-z0-9_-]{1,23}$/;
const NUMBER_RE = /^(0|[1-9][0-9]{0,9})$/;

export interface HeldAsk {
  /** Names the asker's answer topic. */
  readonly token: string;
  /** Which of the asker's questions this is. */
  readonly seq: number;
  readonly ids: readonly NodeId[];
}

export interface HeldAnswer {
  readonly seq: number;
  /** The most twins the server keeps (`--max-nodes`). */
  readonly maxNodes: number;
  /** How many twins it holds now. */
  readonly twins: number;
  /** The nodes of the question it holds no twin of, in the question's order. */
  readonly notHeld: readonly NodeId[];
}

export function heldAskTopic(prefix: Prefix, clientId: string): string {
  return `${prefix}/control/${clientId}/ask`;
}

export function heldAnswerTopic(prefix: Prefix, clientId: string, token: string): string {
  return `${prefix}/control/${clientId}/held/${token}`;
}

export function isHeldToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

export function encodeHeldAsk(a: HeldAsk): string {
  return [HELD_ASK_TAG, a.token, String(a.seq), ...a.ids].join(" ");
}

export function encodeHeldAnswer(a: HeldAnswer): string {
  return [HELD_ANSWER_TAG, String(a.seq), String(a.maxNodes), String(a.twins), ...a.notHeld].join(" ");
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined || !NUMBER_RE.test(s)) return undefined;
  const n = Number(s);
  return n <= HELD_MAX_NUMBER ? n : undefined;
};

const idsOf = (fields: readonly string[]): NodeId[] | undefined =>
  fields.every(isNodeId) ? (fields as NodeId[]) : undefined;

/** A question, or what is wrong with it. */
export function readHeldAsk(payload: Uint8Array): HeldAsk | { readonly bad: string } {
  const f = Buffer.from(payload).toString("latin1").split(" ");
  if (f[0] !== HELD_ASK_TAG) return { bad: `not ${HELD_ASK_TAG} <token> <seq> <node id>…` };
  const token = f[1] ?? "";
  const seq = num(f[2]);
  if (!isHeldToken(token)) return { bad: "its token is not 1-23 of A-Z a-z 0-9 _ -" };
  if (seq === undefined) return { bad: "its seq is not a whole number up to 2147483647" };
  const ids = idsOf(f.slice(3));
  if (ids === undefined || ids.length === 0) return { bad: "it names no node, or a malformed node id" };
  return { token, seq, ids };
}

/** An answer; undefined for anything else. */
export function readHeldAnswer(payload: Uint8Array): HeldAnswer | undefined {
  const f = Buffer.from(payload).toString("latin1").split(" ");
  const [seq, maxNodes, twins] = [num(f[1]), num(f[2]), num(f[3])];
  const notHeld = idsOf(f.slice(4));
  if (f[0] !== HELD_ANSWER_TAG || seq === undefined || maxNodes === undefined || twins === undefined)
    return undefined;
  return notHeld === undefined ? undefined : { seq, maxNodes, twins, notHeld };
}

/**
 * `ids` cut into questions to `clientId` (seq 0, 1, …), each as long as it may be for it and the
 * longest answer to it (every node not held, the largest numbers) to fit MAX_PACKET_BYTES at QoS 1.
 */
export function heldAsks(prefix: Prefix, clientId: string, token: string, ids: readonly NodeId[]): HeldAsk[] {
  const askTopic = Buffer.byteLength(heldAskTopic(prefix, clientId));
  const answerTopic = Buffer.byteLength(heldAnswerTopic(prefix, clientId, token));
  const fits = (seq: number, list: readonly NodeId[]) => {
    const ask = encodeHeldAsk({ token, seq, ids: list }).length;
    const answer = encodeHeldAnswer({
      seq,
      maxNodes: HELD_MAX_NUMBER,
      twins: HELD_MAX_NUMBER,
      notHeld: list,
    });
    return (
      publishPacketBytes(askTopic, ask, 1) <= MAX_PACKET_BYTES &&
      publishPacketBytes(answerTopic, answer.length, 1) <= MAX_PACKET_BYTES
    );
  };
  const asks: HeldAsk[] = [];
  let list: NodeId[] = [];
  for (const id of ids) {
    const seq = asks.length;
    if (list.length > 0 && !fits(seq, [...list, id])) {
      asks.push({ token, seq, ids: list });
      list = [];
    }
    if (!fits(asks.length, [id]))
      throw new RangeError(`a question to ${clientId} about ${id} does not fit ${MAX_PACKET_BYTES} bytes`);
    list.push(id);
  }
  if (list.length > 0) asks.push({ token, seq: asks.length, ids: list });
  return asks;
}
