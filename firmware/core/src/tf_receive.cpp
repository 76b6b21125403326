/*
 * The inbound guard's packet walk (MQTT 3.1.1 §2.2, as PubSubClient 2.8's readPacket reads it) and
 * copyReceived, where each bound is compared on its own so that no sum can wrap (size_t and unsigned
 * int are 16 bits on the AVR).
 */
#include "tf_receive.h"

#include <string.h>

namespace tf {

bool copyReceived(char *buf, uint16_t cap, const char *topic, const uint8_t *payload, unsigned int length) {
  if (length >= cap) return false;
  uint16_t room = (uint16_t)(cap - length);  // for the topic and its NUL: at least 1
  uint16_t topicLen = 0;
  while (topic[topicLen] != '\0') {
    if (++topicLen >= room) return false;
  }
  memcpy(buf, topic, topicLen + 1);
  memcpy(buf + topicLen + 1, payload, length);
  return true;
}

namespace {
enum GuardStep : uint8_t { kHeader, kLength, kTopicHigh, kTopicLow, kBody };
}

void InboundGuard::reset() {
  step_ = kHeader;
  header_ = 0;
  lengthBytes_ = 0;
  topicHigh_ = 0;
  remaining_ = 0;
}

uint8_t InboundGuard::pass(uint8_t b) {
  switch (step_) {
    case kHeader:
      header_ = b;
      remaining_ = 0;
      lengthBytes_ = 0;
      step_ = kLength;
      return b;
    case kLength:
      remaining_ |= (uint32_t)(b & 127) << (7 * lengthBytes_);
      lengthBytes_++;
      // A fifth length byte: PubSubClient drops the connection; start over with the next one.
      if ((b & 128) != 0) {
        if (lengthBytes_ == 4) step_ = kHeader;
        return b;
      }
      if ((header_ & 0xF0) == 0x30) step_ = kTopicHigh;
      else step_ = remaining_ == 0 ? kHeader : kBody;
      return b;
    case kTopicHigh:
    case kTopicLow: {
      // The topic, after its 2 length bytes and before a packet id at QoS 1 and 2, must fit.
      uint32_t around = 2 + ((header_ & 0x06) != 0 ? 2 : 0);
      uint32_t room = remaining_ > around ? remaining_ - around : 0;
      if (step_ == kTopicHigh) {
        topicHigh_ = ((uint32_t)b << 8) > room ? (uint8_t)(room >> 8) : b;
        step_ = kTopicLow;
        return topicHigh_;
      }
      uint32_t high = (uint32_t)topicHigh_ << 8;
      if (high + b > room) b = (uint8_t)(room - high);  // high <= room: room - high < 256
      remaining_ = remaining_ > 2 ? remaining_ - 2 : 0;
      step_ = remaining_ == 0 ? kHeader : kBody;
      return b;
    }
    default:
      if (--remaining_ == 0) step_ = kHeader;
      return b;
  }
}

}  // namespace tf
