/*
 * copyReceived: each bound compared on its own, so that no sum can wrap (size_t and unsigned int
 * are 16 bits on the AVR).
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

}  // namespace tf
