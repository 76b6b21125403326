// An IPv4 address as PubSubClient 2.8 takes one (firmware/pubsub-host/). Host-only.
#ifndef PUBSUB_HOST_IPADDRESS_H
#define PUBSUB_HOST_IPADDRESS_H

#include <stdint.h>

class IPAddress {
 public:
  IPAddress() : b_{0, 0, 0, 0} {}
  IPAddress(uint8_t a, uint8_t b, uint8_t c, uint8_t d) : b_{a, b, c, d} {}
  explicit IPAddress(const uint8_t *p) : b_{p[0], p[1], p[2], p[3]} {}
  uint8_t operator[](int i) const { return b_[i]; }

 private:
  uint8_t b_[4];
};

#endif
