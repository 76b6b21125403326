/*
 * The protocol's size limits (docs/protocol.md §1-§2, protocol/limits.ts); every fixed buffer of
 * the core is sized from these.
 */
#ifndef TF_LIMITS_H
#define TF_LIMITS_H

#include <stdint.h>

namespace tf {

const uint16_t kMaxPacketBytes = 256;  // PubSubClient's MQTT_MAX_PACKET_SIZE
const uint8_t kMaxPrefixLen = 12;
const uint8_t kMaxIdLen = 23;
const uint8_t kMaxFollows = 8;
const uint32_t kMaxCounter = 4294967295UL;
// The highest counter taken from a report or a set command: 2^24 below the maximum (protocol.md §4).
const uint32_t kCounterCeiling = kMaxCounter - 16777216UL;
const uint8_t kMaxProfileLen = 16;
const uint8_t kMaxFirmwareLen = 12;

// "<prefix>/unsubscribe/<id>": the longest topic a node builds.
const uint8_t kMaxTopicLen = kMaxPrefixLen + 1 + 11 + 1 + kMaxIdLen;
// "C1 <version> <source>x8": the longest payload a node builds.
const uint8_t kMaxPayloadLen = 2 + 1 + 10 + kMaxFollows * (1 + kMaxIdLen);

}  // namespace tf

#endif
