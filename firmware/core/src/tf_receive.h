/*
 * The copy a board makes of a received message before handing it to the core: its MQTT client
 * (PubSubClient) passes pointers into the one packet buffer that every reply the core makes
 * rewrites. The bounds are checked so that no length a broker can make the client report wraps them.
 */
#ifndef TF_RECEIVE_H
#define TF_RECEIVE_H

#include <stdint.h>

namespace tf {

/**
 * Copies `topic` (NUL-terminated), a NUL and `length` bytes of `payload` into `buf`, and returns
 * true; or copies nothing and returns false when they do not fit `cap` bytes. PubSubClient 2.8 gives
 * a PUBLISH whose topic length field claims more than the packet holds a length that wrapped below
 * zero (65527 on an AVR, 2^32 - 9 on a Due): a sum `topic + 1 + length` wraps as well, past the test.
 */
bool copyReceived(char *buf, uint16_t cap, const char *topic, const uint8_t *payload, unsigned int length);

}  // namespace tf

#endif
