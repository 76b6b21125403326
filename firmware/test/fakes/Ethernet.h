// Fake of arduino-libraries/Ethernet 2.0.2's API, as far as the sketch uses it; records the calls.
#ifndef FAKE_ETHERNET_H
#define FAKE_ETHERNET_H

#include <string>

#include "Arduino.h"

class IPAddress {
 public:
  IPAddress() : b{0, 0, 0, 0} {}
  IPAddress(uint8_t a, uint8_t b1, uint8_t c, uint8_t d) : b{a, b1, c, d} {}
  uint8_t b[4];
};

class EthernetClass {
 public:
  void init(uint8_t sspin = 10) { csPin = sspin; }
  int begin(uint8_t *address) {
    memcpy(mac, address, 6);
    dhcp = true;
    return 1;
  }
  void begin(uint8_t *address, IPAddress local, IPAddress, IPAddress, IPAddress) {
    memcpy(mac, address, 6);
    ip = local;
    begun = true;
  }
  int maintain() { return 0; }
  void setRetransmissionTimeout(uint16_t ms) { retransmissionTimeoutMs = ms; }
  void setRetransmissionCount(uint8_t n) { retransmissionCount = n; }

  uint8_t csPin = 0;
  uint8_t mac[6] = {0};
  IPAddress ip;
  bool begun = false;
  bool dhcp = false;
  uint16_t retransmissionTimeoutMs = 0;
  uint8_t retransmissionCount = 0;
};
extern EthernetClass Ethernet;

// The virtuals of Arduino's Client that the sketch overrides; reads come from `incoming`.
class EthernetClient;
typedef EthernetClient Client;
class EthernetClient {
 public:
  virtual ~EthernetClient() {}
  virtual int connect(IPAddress, uint16_t) { return 1; }
  virtual int connect(const char *, uint16_t) { return 1; }
  virtual int read() { return readAt < incoming.size() ? static_cast<uint8_t>(incoming[readAt++]) : -1; }
  virtual int read(uint8_t *buf, size_t size) {
    size_t n = 0;
    while (n < size && readAt < incoming.size()) buf[n++] = static_cast<uint8_t>(incoming[readAt++]);
    return static_cast<int>(n);
  }

  // Test controls.
  std::string incoming;  // what the broker sent
  size_t readAt = 0;
};

#endif
