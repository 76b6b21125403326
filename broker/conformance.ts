/**
 * What MQTT 3.1.1 says a server MUST refuse, checked on each complete inbound packet before aedes
 * parses it. mqtt-packet (aedes's parser) is lenient: it decodes invalid UTF-8 as U+FFFD, accepts a
 * packet id of 0, a will QoS of 3, a password without a user name, a SUBSCRIBE or UNSUBSCRIBE with
 * no filter, and it drops a CONNECT of an unknown protocol level without the CONNACK 0x01 the spec
 * wants. `PacketValidator` judges the raw bytes of a packet; `InboundGate` frames the byte stream
 * and passes on what is valid; on the first violation `FrameLimitedStream` answers the CONNACK the
 * spec asks for (if any) and closes the connection, forwarding nothing more. Also enforces two limits
 * of our own: the client id's length and the number of filters in one SUBSCRIBE.
 */
import { isUtf8 } from "node:buffer";

export interface ConformanceLimits {
  /** Longest client id accepted, in bytes; a longer one gets CONNACK 0x02. */
  readonly maxClientIdBytes: number;
  /** Most topic filters in one SUBSCRIBE; more closes the connection. */
  readonly maxFiltersPerSubscribe: number;
}

/** A refused packet: the clause it breaks, why, and the CONNACK return code to answer, if any. */
export interface Violation {
  readonly clause: string;
  readonly reason: string;
  readonly connackCode?: 1 | 2;
}

export class ConformanceError extends Error {
  override readonly name = "ConformanceError";
  constructor(readonly violation: Violation) {
    super(`${violation.clause}: ${violation.reason}`);
  }
}

const CONNECT = 1;
const PUBLISH = 3;
const PUBREL = 6;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
const PINGREQ = 12;
const DISCONNECT = 14;
/** Packet types a client may send with their fixed header flags ([MQTT-2.2.2-2]); PUBLISH aside. */
const CLIENT_FLAGS: ReadonlyMap<number, number> = new Map([
  [CONNECT, 0],
  [4, 0], // PUBACK
  [5, 0], // PUBREC
  [PUBREL, 2],
  [7, 0], // PUBCOMP
  [SUBSCRIBE, 2],
  [UNSUBSCRIBE, 2],
  [PINGREQ, 0],
  [DISCONNECT, 0],
]);

/** Thrown inside a check and turned into its verdict; never escapes this module. */
class Refused extends Error {
  constructor(readonly violation: Violation) {
    super(violation.reason);
  }
}

function refuse(clause: string, reason: string, connackCode?: 1 | 2): never {
  throw new Refused({ clause, reason, ...(connackCode !== undefined ? { connackCode } : {}) });
}

/** Reads a packet's variable header and payload (the bytes after the fixed header). */
class Reader {
  #at = 0;
  constructor(
    private readonly body: Buffer,
    private readonly what: string,
  ) {}

  get left(): number {
    return this.body.length - this.#at;
  }

  byte(field: string): number {
    if (this.left < 1) refuse("MQTT-2.2.3", `${this.what} ends before its ${field}`);
    return this.body[this.#at++]!;
  }

  uint16(field: string): number {
    if (this.left < 2) refuse("MQTT-2.2.3", `${this.what} ends before its ${field}`);
    const v = this.body.readUInt16BE(this.#at);
    this.#at += 2;
    return v;
  }

  /** Length-prefixed bytes (§1.5.3 strings, will message, password). */
  bytes(field: string): Buffer {
    const length = this.uint16(`${field} length`);
    if (this.left < length) refuse("MQTT-2.2.3", `${this.what}'s ${field} runs past the packet's end`);
    const v = this.body.subarray(this.#at, this.#at + length);
    this.#at += length;
    return v;
  }

  /** A §1.5.3 UTF-8 string: well-formed, no surrogates, no U+0000. */
  string(field: string): Buffer {
    const v = this.bytes(field);
    if (!isUtf8(v)) refuse("MQTT-1.5.3-1", `${this.what}'s ${field} is not well-formed UTF-8`);
    if (v.includes(0)) refuse("MQTT-1.5.3-2", `${this.what}'s ${field} contains U+0000`);
    return v;
  }
}

/**
 * What is wrong with a topic filter, or undefined: not empty ([MQTT-4.7.3-1]), wildcards only as whole
 * levels and `#` last ([MQTT-4.7.1-2], [MQTT-4.7.1-3]). Returns the clause, a colon, then the reason.
 */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "MQTT-4.7.3-1: the filter is empty";
  const levels = filter.split("/");
  for (const [i, level] of levels.entries()) {
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return "MQTT-4.7.1-2: '#' must be a whole level and the last one";
    }
    if (level.includes("+") && level !== "+") return "MQTT-4.7.1-3: '+' must be a whole level";
  }
  return undefined;
}

function checkFilter(filter: Buffer, what: string): void {
  const problem = topicFilterProblem(filter.toString("utf8"));
  if (problem === undefined) return;
  const colon = problem.indexOf(":");
  refuse(problem.slice(0, colon), `${what}: ${problem.slice(colon + 2)}`);
}

function checkTopicName(topic: Buffer, what: string, clause: string): void {
  if (topic.length === 0) refuse("MQTT-4.7.3-1", `${what} has an empty topic name`);
  if (topic.includes(0x23) || topic.includes(0x2b))
    refuse(clause, `${what}'s topic name contains a wildcard`);
}

function checkPacketId(id: number, what: string): void {
  if (id === 0) refuse("MQTT-2.3.1-1", `${what} has packet identifier 0`);
}

/**
 * Judges one connection's inbound packets in order. `check` takes a complete packet (fixed header
 * included) and returns undefined to let it through, or the violation.
 */
export class PacketValidator {
  #connected = false;

  constructor(private readonly limits: ConformanceLimits) {}

  check(packet: Buffer, headerBytes: number): Violation | undefined {
    try {
      this.#check(packet[0]!, packet.subarray(headerBytes));
      return undefined;
    } catch (err) {
      if (err instanceof Refused) return err.violation;
      throw err;
    }
  }

  #check(first: number, body: Buffer): void {
    const type = first >> 4;
    const flags = first & 0x0f;
    if (!this.#connected && type !== CONNECT) refuse("MQTT-3.1.0-1", "the first packet is not CONNECT");
    if (type === PUBLISH) {
      this.#publish(flags, body);
      return;
    }
    const expected = CLIENT_FLAGS.get(type);
    if (expected === undefined) refuse("MQTT-2.2.1", `packet type ${type} may not be sent by a client`);
    if (flags !== expected) {
      const clause =
        type === PUBREL
          ? "MQTT-3.6.1-1"
          : type === SUBSCRIBE
            ? "MQTT-3.8.1-1"
            : type === UNSUBSCRIBE
              ? "MQTT-3.10.1-1"
              : "MQTT-2.2.2-2";
      refuse(clause, `packet type ${type} has fixed header flags ${flags.toString(2).padStart(4, "0")}`);
    }
    switch (type) {
      case CONNECT:
        this.#connect(body);
        return;
      case SUBSCRIBE:
        this.#subscribe(body);
        return;
      case UNSUBSCRIBE:
        this.#unsubscribe(body);
        return;
      case PINGREQ:
      case DISCONNECT:
        if (body.length !== 0) refuse("MQTT-2.2.3", `packet type ${type} must have no body`);
        return;
      default: {
        // PUBACK, PUBREC, PUBREL, PUBCOMP: exactly a packet id.
        if (body.length !== 2) refuse("MQTT-2.2.3", `packet type ${type} must be 2 bytes long`);
        checkPacketId(body.readUInt16BE(0), `packet type ${type}`);
      }
    }
  }

  #connect(body: Buffer): void {
    if (this.#connected) refuse("MQTT-3.1.0-2", "a second CONNECT");
    const r = new Reader(body, "CONNECT");
    const name = r.bytes("protocol name").toString("latin1");
    if (name !== "MQTT" && name !== "MQIsdp")
      refuse("MQTT-3.1.2-1", `unknown protocol name ${JSON.stringify(name)}`);
    const level = r.byte("protocol level");
    // "MQIsdp" is MQTT 3.1 (level 3), which aedes also speaks.
    if (level !== (name === "MQTT" ? 4 : 3)) {
      refuse("MQTT-3.1.2-2", `protocol ${name} level ${level} is not supported`, 1);
    }
    const f = r.byte("connect flags");
    const [reserved, clean, will, willQos, willRetain, password, username] = [
      f & 1,
      f & 2,
      f & 4,
      (f >> 3) & 3,
      f & 0x20,
      f & 0x40,
      f & 0x80,
    ];
    if (reserved) refuse("MQTT-3.1.2-3", "the reserved connect flag is set");
    if (!will && willQos !== 0) refuse("MQTT-3.1.2-13", "will QoS is set without the will flag");
    if (!will && willRetain) refuse("MQTT-3.1.2-15", "will retain is set without the will flag");
    if (willQos === 3) refuse("MQTT-3.1.2-14", "will QoS is 3");
    if (password && !username) refuse("MQTT-3.1.2-22", "password flag set without the user name flag");
    r.uint16("keep alive");
    const clientId = r.string("client id");
    if (will) {
      checkTopicName(r.string("will topic"), "CONNECT will", "MQTT-4.7.1-1");
      r.bytes("will message");
    }
    if (username) r.string("user name");
    if (password) r.bytes("password");
    if (r.left !== 0) refuse("MQTT-2.2.3", `CONNECT has ${r.left} bytes past its last field`);
    if (clientId.length === 0 && (!clean || level === 3)) {
      refuse("MQTT-3.1.3-8", "empty client id without a clean session", 2);
    }
    if (clientId.length > this.limits.maxClientIdBytes) {
      refuse(
        "MQTT-3.1.3-5",
        `client id of ${clientId.length} bytes is longer than the ${this.limits.maxClientIdBytes}-byte limit`,
        2,
      );
    }
    this.#connected = true;
  }

  #publish(flags: number, body: Buffer): void {
    const qos = (flags >> 1) & 3;
    if (qos === 3) refuse("MQTT-3.3.1-4", "PUBLISH with QoS 3");
    const r = new Reader(body, "PUBLISH");
    checkTopicName(r.string("topic"), "PUBLISH", "MQTT-3.3.2-2");
    if (qos > 0) checkPacketId(r.uint16("packet identifier"), "PUBLISH");
  }

  #subscribe(body: Buffer): void {
    const r = new Reader(body, "SUBSCRIBE");
    checkPacketId(r.uint16("packet identifier"), "SUBSCRIBE");
    if (r.left === 0) refuse("MQTT-3.8.3-3", "SUBSCRIBE with no topic filter");
    let count = 0;
    while (r.left > 0) {
      checkFilter(r.string("topic filter"), "SUBSCRIBE");
      const requested = r.byte("requested QoS");
      if (requested > 2) refuse("MQTT-3-8.3-4", `SUBSCRIBE requests QoS byte ${requested}`);
      if (++count > this.limits.maxFiltersPerSubscribe) {
        // Named by the flag an operator sets it with (the library's option is maxFiltersPerSubscribe).
        refuse(
          "--max-filters-per-subscribe",
          `SUBSCRIBE has more than ${this.limits.maxFiltersPerSubscribe} topic filters, this broker's limit: the connection is closed (MQTT 3.1.1 has no refusal for a whole SUBSCRIBE; raise the limit for a client that needs more)`,
        );
      }
    }
  }

  #unsubscribe(body: Buffer): void {
    const r = new Reader(body, "UNSUBSCRIBE");
    checkPacketId(r.uint16("packet identifier"), "UNSUBSCRIBE");
    if (r.left === 0) refuse("MQTT-3.10.3-2", "UNSUBSCRIBE with no topic filter");
    while (r.left > 0) checkFilter(r.string("topic filter"), "UNSUBSCRIBE");
  }
}

/** Total size and header size of the frame at the start of `buf`, or undefined while incomplete. */
export function frameSize(buf: Buffer): { total: number; header: number } | undefined {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i < 5 && i < buf.length; i++) {
    const b = buf[i]!;
    length += (b & 0x7f) * multiplier;
    multiplier *= 128;
    // FrameLimitedStream, upstream, has already cut a length field longer than 4 bytes.
    if ((b & 0x80) === 0) return { total: 1 + i + length, header: 1 + i };
  }
  return undefined;
}

/** What `InboundGate.feed` makes of a chunk. */
export interface GateResult {
  /** Bytes of the whole packets now complete and valid, in order; empty while a packet is partial. */
  readonly pass: Buffer;
  /** The first breach, if any: nothing after `pass` may be handed on. */
  readonly violation?: Violation;
}

const NOTHING = Buffer.alloc(0);

/**
 * Frames one connection's inbound bytes into whole packets and judges each (`PacketValidator`). A
 * partial packet waits here, at most one packet of the frame limit's size, which the frame scanner
 * upstream has already enforced. Used by `FrameLimitedStream` on its read path, so that checking
 * adds no stream layer.
 */
export class InboundGate {
  readonly #validator: PacketValidator;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes the frame at the head of `#pending` needs in all, once its header is known. */
  #need = 0;

  constructor(limits: ConformanceLimits) {
    this.#validator = new PacketValidator(limits);
  }

  feed(chunk: Buffer): GateResult {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#need > 0 && this.#pendingBytes < this.#need) return { pass: NOTHING };
    const buf = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#pendingBytes);
    let passed = 0;
    for (;;) {
      const size = frameSize(buf.subarray(passed));
      if (size === undefined || buf.length - passed < size.total) {
        this.#need = size?.total ?? 0;
        break;
      }
      const violation = this.#validator.check(buf.subarray(passed, passed + size.total), size.header);
      if (violation !== undefined) {
        this.#pending = [];
        this.#pendingBytes = 0;
        return { pass: buf.subarray(0, passed), violation };
      }
      passed += size.total;
    }
    const rest = buf.subarray(passed);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    return { pass: buf.subarray(0, passed) };
  }
}

/** CONNACK with `code` and session present 0 ([MQTT-3.2.2-4]), sent before closing ([MQTT-3.2.2-5]). */
export function connackFor(violation: Violation): Buffer | undefined {
  return violation.connackCode === undefined
    ? undefined
    : Buffer.from([0x20, 0x02, 0x00, violation.connackCode]);
}
