/**
 * One reading of a PUBLISH frame that several readers get as the same bytes. The in-memory broker
 * forwards a QoS 0 publish to all its subscribers (a report: its follower, its own node's echo, the
 * twins) as one frame, and registers here what it read of it: the topic and where the payload
 * starts. The first reader that needs the payload's text or the decoded message makes it and the
 * others take it, so a publish's strings and message are made once, not once per reader. Nothing
 * writes into a frame once it is sent, so what was read of it stays true; a frame nobody
 * registered (a real socket's, a QoS 1 delivery's) is read by each reader as before.
 */
import { decode, isProtocolError, type Message, type Prefix } from "../protocol/index.js";

/** What was read of a shared QoS 0 PUBLISH (not retained, no packet id). */
export interface SharedRead {
  readonly topic: string;
  /** The payload runs from here to the end of the frame. */
  readonly payloadAt: number;
  /** The payload as UTF-8 text, once a reader needed it. */
  text: string | undefined;
  /** The message decoded for `prefix`, once a reader decoded it. */
  message: Message | undefined;
  prefix: Prefix | undefined;
}

/**
 * Where a shared frame keeps its reading: on the frame itself, so it goes with it and a reader finds
 * it in one property read (a WeakMap's entries cost more to add than the reading saves).
 */
const READ = Symbol("shared read");
type ReadFrame = Buffer & { [READ]?: SharedRead };

/**
 * Registers `frame` (a QoS 0 PUBLISH, first byte 0x30) as read: `topic` is what its topic bytes
 * decode to as UTF-8, and its payload starts at `payloadAt`.
 */
export function shareRead(frame: Buffer, topic: string, payloadAt: number): void {
  (frame as ReadFrame)[READ] = { topic, payloadAt, text: undefined, message: undefined, prefix: undefined };
}

/** What was read of `frame` when it is a shared one; undefined for any other bytes. */
export function sharedRead(frame: Buffer): SharedRead | undefined {
  return (frame as ReadFrame)[READ];
}

/** `frame`'s payload as UTF-8 text (what `frame.toString("utf8", payloadAt)` gives), made once. */
export function sharedText(read: SharedRead, frame: Buffer): string {
  read.text ??= frame.toString("utf8", read.payloadAt);
  return read.text;
}

/**
 * The message `frame` carries, as `decode(prefix, topic, payload, 0)` reads it, decoded by the first
 * reader and the same (read-only) object for the others; undefined when it is not a valid message,
 * for the reader to decode it itself and name what is wrong, as without a shared read. A valid
 * message is printable ASCII: the same text and sizes whether its bytes are read as UTF-8 or
 * latin1, so the message is the one `decode` gives for the payload's bytes too.
 */
export function sharedMessage(read: SharedRead, frame: Buffer, prefix: Prefix): Message | undefined {
  if (read.message !== undefined && read.prefix === prefix) return read.message;
  let msg: Message;
  try {
    msg = decode(prefix, read.topic, sharedText(read, frame), 0);
  } catch (e) {
    if (isProtocolError(e)) return undefined;
    throw e;
  }
  read.message = msg;
  read.prefix = prefix;
  return msg;
}
