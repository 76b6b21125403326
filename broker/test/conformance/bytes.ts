/**
 * Byte builders for the conformance table: MQTT 3.1.1 packets written by hand (not with mqtt-packet),
 * so that a row can also send what no library would — a wrong flag, a bad string, a missing field.
 */

type Text = string | Buffer;

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}

const bytesOf = (t: Text): Buffer => (typeof t === "string" ? Buffer.from(t, "utf8") : t);

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A §1.5.3 string (or binary field): two length bytes, then the bytes. */
export function str(t: Text): Buffer {
  const b = bytesOf(t);
  return Buffer.concat([u16(b.length), b]);
}

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A packet: the first byte (type and flags), its remaining length, then `parts`. */
export function frame(first: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
}

export interface ConnectSpec {
  id?: Text;
  clean?: boolean;
  keepalive?: number;
  will?: { topic: Text; message?: Text; qos?: number; retain?: boolean };
  username?: Text;
  password?: Text;
  protocol?: string;
  level?: number;
  /** Replaces the connect flags byte computed from the fields (to send contradictory flags). */
  flags?: number;
  /** Bytes appended after the last field. */
  trailing?: Buffer;
}

export function connect(c: ConnectSpec = {}): Buffer {
  const will = c.will;
  const computed =
    (c.clean === false ? 0 : 0x02) |
    (will ? 0x04 | ((will.qos ?? 0) << 3) | (will.retain ? 0x20 : 0) : 0) |
    (c.password !== undefined ? 0x40 : 0) |
    (c.username !== undefined ? 0x80 : 0);
  return frame(
    0x10,
    str(c.protocol ?? "MQTT"),
    Buffer.from([c.level ?? 4, c.flags ?? computed]),
    u16(c.keepalive ?? 60),
    str(c.id ?? "conformance"),
    ...(will ? [str(will.topic), str(will.message ?? "")] : []),
    ...(c.username !== undefined ? [str(c.username)] : []),
    ...(c.password !== undefined ? [str(c.password)] : []),
    c.trailing ?? Buffer.alloc(0),
  );
}

export interface PublishSpec {
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  /** Packet id; required by the spec for QoS 1 and 2, 1 if not given. */
  id?: number;
}

export function publish(topic: Text, payload: Text, p: PublishSpec = {}): Buffer {
  const qos = p.qos ?? 0;
  const first = 0x30 | (p.dup ? 0x08 : 0) | (qos << 1) | (p.retain ? 1 : 0);
  return frame(first, str(topic), qos > 0 ? u16(p.id ?? 1) : Buffer.alloc(0), bytesOf(payload));
}

/** SUBSCRIBE with id `id` and [filter, requested QoS byte] pairs. */
export function subscribe(id: number, ...filters: [Text, number][]): Buffer {
  return frame(0x82, u16(id), ...filters.flatMap(([f, q]) => [str(f), Buffer.from([q])]));
}

export function unsubscribe(id: number, ...filters: Text[]): Buffer {
  return frame(0xa2, u16(id), ...filters.map(str));
}

export const puback = (id: number): Buffer => frame(0x40, u16(id));
export const pubrec = (id: number): Buffer => frame(0x50, u16(id));
export const pubrel = (id: number): Buffer => frame(0x62, u16(id));
export const pubcomp = (id: number): Buffer => frame(0x70, u16(id));
export const PINGREQ = hex("c0 00");
export const DISCONNECT = hex("e0 00");

/** Expected answers, as hex patterns; `??` matches any byte (the broker's own packet ids). */
export const CONNACK_OK = "20 02 00 00";
export const CONNACK_SESSION = "20 02 01 00";
export const PINGRESP = "d0 00";

const hexOf = (b: Buffer): string => b.toString("hex").replace(/(..)(?!$)/g, "$1 ");

/** The PUBLISH the broker sends: its packet id (QoS 1, 2) left as `?? ??`. */
export function delivered(topic: Text, payload: Text, p: Omit<PublishSpec, "id"> = {}): string {
  const qos = p.qos ?? 0;
  const bytes = publish(topic, payload, { ...p, id: 0xffff });
  if (qos === 0) return hexOf(bytes);
  const head = bytes.length - bytesOf(payload).length - 2;
  return `${hexOf(bytes.subarray(0, head))} ?? ?? ${hexOf(bytes.subarray(head + 2))}`.trim();
}

export const suback = (id: number, ...codes: number[]): string =>
  hexOf(frame(0x90, u16(id), Buffer.from(codes)));
export const unsuback = (id: number): string => hexOf(frame(0xb0, u16(id)));
export const pubackHex = (id: number): string => hexOf(puback(id));
export const pubrecHex = (id: number): string => hexOf(pubrec(id));
export const pubcompHex = (id: number): string => hexOf(pubcomp(id));
/** PUBREL from the broker for its own packet id. */
export const PUBREL_ANY = "62 02 ?? ??";

/** The packet id of a PUBLISH (QoS > 0) the broker sent, or of a PUBREC/PUBREL. */
export function packetIdOf(packet: Buffer): number {
  let i = 1;
  while (packet[i]! & 0x80) i++;
  const body = packet.subarray(i + 1);
  if (packet[0]! >> 4 !== 3) return body.readUInt16BE(0);
  return body.readUInt16BE(2 + body.readUInt16BE(0));
}
