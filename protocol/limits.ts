/**
 * Size limits of the protocol, chosen so that every message fits PubSubClient's 256-byte packet.
 */

/** PubSubClient's MQTT_MAX_PACKET_SIZE: fixed header + topic + payload (+ packet id at QoS 1). */
export const MAX_PACKET_BYTES = 256;
export const MAX_PREFIX_LENGTH = 12;
export const MAX_ID_LENGTH = 23;
/** How many sources one node may follow. */
export const MAX_FOLLOWS = 8;
export const MAX_COUNTER = 4_294_967_295;
/**
 * The highest counter a node takes from a report or a set command (protocol.md §4): 2^24 below the
 * maximum. No fleet's own events get near it; one bad or hostile message above it would saturate
 * the clocks of the nodes that took it, and their later events would stop winning.
 */
export const COUNTER_CEILING = MAX_COUNTER - 2 ** 24;
export const PROTOCOL_VERSION = 1;
export const DEFAULT_PREFIX = "tf";

/** Bytes of the whole MQTT PUBLISH packet carrying this topic and payload. */
export function publishPacketBytes(topicBytes: number, payloadBytes: number, qos: 0 | 1): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  let lengthBytes = 1;
  for (let n = remaining; n > 127; n = Math.floor(n / 128)) lengthBytes++;
  return 1 + lengthBytes + remaining;
}
