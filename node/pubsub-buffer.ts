/**
 * The CONNECT the sketch's reconnect() has PubSubClient 2.8 send, and PubSubClient's own size checks
 * (src/PubSubClient.cpp), made before it builds a packet in its buffer: what connect(), publish() and
 * subscribe()/unsubscribe() need of it. Over the buffer (`mqtt.maxPacketBytes`), nothing is sent,
 * whatever size the packet itself would have had.
 */
import type { IConnectPacket } from "mqtt-packet";
import { encode, type NodeId, type Prefix } from "../protocol/index.js";

/** The node's CONNECT: client id `<prefix>-<id>`, clean session, last will `T1 0` (QoS 1, retained). */
export function pubsubConnect(
  prefix: Prefix,
  node: NodeId,
  keepaliveS: number,
  username: string | undefined,
  password: string | undefined,
): IConnectPacket {
  const will = encode(prefix, { kind: "status", node, online: false });
  return {
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clientId: `${prefix}-${node}`,
    clean: true,
    keepalive: keepaliveS,
    username,
    password: password === undefined ? undefined : Buffer.from(password),
    will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
  };
}

/**
 * The bytes PubSubClient 2.8's connect() needs in its buffer for this CONNECT: its 5-byte header room
 * (MQTT_MAX_HEADER_SIZE), the 10-byte variable header of MQTT 3.1.1, then each string with its 2-byte
 * length — the client id, the will's topic and message, the user name and, with a user name, the
 * password. Over the buffer size, CHECK_STRING_LENGTH stops the socket and connect() returns false
 * without sending anything: a board can never log in with such an id, will or password.
 */
export function pubsubConnectBytes(c: IConnectPacket): number {
  const field = (s: string | Buffer | undefined): number =>
    s === undefined ? 0 : 2 + (typeof s === "string" ? Buffer.byteLength(s) : s.length);
  const will = c.will === undefined ? 0 : field(c.will.topic) + field(c.will.payload);
  const login = c.username === undefined ? 0 : field(c.username) + field(c.password);
  return 5 + 10 + field(c.clientId) + will + login;
}

/**
 * The bytes PubSubClient 2.8's publish() needs in its buffer: 5 bytes of header room, the topic with
 * its 2-byte length and the payload — 2 bytes more than a QoS 0 PUBLISH of 128 bytes or more takes.
 */
export function pubsubPublishBytes(topic: string, payload: string): number {
  return 5 + 2 + Buffer.byteLength(topic) + Buffer.byteLength(payload);
}

/** The same for subscribe() and unsubscribe(): `9 + strlen(topic)` (src/PubSubClient.cpp). */
export function pubsubSubscribeBytes(topic: string): number {
  return 9 + Buffer.byteLength(topic);
}
