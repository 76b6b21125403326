/*
 * What a board needs between its MQTT client (PubSubClient 2.8) and the core on a hostile LAN: a
 * guard on the bytes the client reads, which takes out the one field the client trusts blindly, and
 * the copy of a received message made before the core's replies rewrite the client's buffer.
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

/**
 * Sees every byte the MQTT client reads from the broker, in order, and hands it on unchanged, but
 * for the topic length of a PUBLISH that claims more than its packet holds: that is lowered to what
 * the packet holds. PubSubClient 2.8 moves `topic length` bytes inside its 256-byte buffer
 * (memmove) without comparing it with the packet: the 5-byte packet 30 03 04 00 78 (a 1,024-byte
 * topic) has it move a kilobyte over the heap and the stack, half the Uno's RAM. With the length
 * lowered, the packet reaches the callback as a short topic, which the core drops (bad-topic). The
 * guard follows the packets as PubSubClient reads them: after a PUBLISH's fixed header it always
 * reads two topic-length bytes, even when the remaining length is under 2. 8 bytes of RAM.
 */
class InboundGuard {
 public:
  InboundGuard() { reset(); }
  /** A new connection: the next byte is a fixed header. */
  void reset();
  /** The byte to hand to the client in place of `b`. */
  uint8_t pass(uint8_t b);

 private:
  uint8_t step_;         // what the next byte is: kHeader, kLength, kTopicHigh, kTopicLow, kBody
  uint8_t header_;       // the packet's first byte
  uint8_t lengthBytes_;  // remaining-length bytes read so far
  uint8_t topicHigh_;    // the high byte of the topic length as handed on
  uint32_t remaining_;   // the remaining length; in kBody, the bytes still to come
};

}  // namespace tf

#endif
