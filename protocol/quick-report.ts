/**
 * The one message every node and the twins read for each one they get — a report, `<tag> <0|1>
 * <counter> <origin>` — read by its characters, with no regular expression, array or substring but
 * the origin. protocol/codec.ts tries it first and reads anything it does not take in full.
 */
import { isNodeId, type NodeId } from "./ids.js";
import { MAX_COUNTER, PROTOCOL_VERSION } from "./limits.js";
import { type Message, TAG_LETTER } from "./messages.js";

const REPORT_TAG = `${TAG_LETTER.report}${PROTOCOL_VERSION}`;
const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;
/** The most digits a counter has (MAX_COUNTER's). */
const COUNTER_DIGITS = String(MAX_COUNTER).length;

/**
 * The report `text` on `node`'s topic, when it is one exactly as the general reading
 * (protocol/codec.ts) accepts it, and the same message; undefined for anything else, which the
 * general reading then takes and names what is wrong with.
 */
export function quickReport(node: NodeId, text: string): Message | undefined {
  const tag = REPORT_TAG;
  const n = tag.length;
  if (!text.startsWith(tag) || text.charCodeAt(n) !== SPACE || text.charCodeAt(n + 2) !== SPACE)
    return undefined;
  const bit = text.charCodeAt(n + 1);
  if (bit !== ZERO && bit !== ZERO + 1) return undefined;
  const from = n + 3;
  let i = from;
  let value = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
  }
  const digits = i - from;
  // A decimal without leading zeros (as COUNTER_RE), at most MAX_COUNTER, then one space.
  if (digits === 0 || digits > COUNTER_DIGITS || (digits > 1 && text.charCodeAt(from) === ZERO))
    return undefined;
  if (value > MAX_COUNTER || text.charCodeAt(i) !== SPACE) return undefined;
  const origin = text.slice(i + 1);
  if (!isNodeId(origin)) return undefined;
  return { kind: "report", node, on: bit !== ZERO, stamp: { counter: value, origin } };
}
