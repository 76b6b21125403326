// The little of the Arduino core PubSubClient 2.8 needs, on a PC (firmware/pubsub-host/): its
// clock is the host's monotonic clock. Host-only; never on a board.
#ifndef PUBSUB_HOST_ARDUINO_H
#define PUBSUB_HOST_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef bool boolean;
typedef uint8_t byte;
#define pgm_read_byte_near(p) (*(const uint8_t *)(p))

unsigned long millis();
inline void yield() {}

#endif
