// Arduino's Client interface, which PubSubClient 2.8 reads and writes through (firmware/pubsub-host/).
#ifndef PUBSUB_HOST_CLIENT_H
#define PUBSUB_HOST_CLIENT_H

#include "IPAddress.h"
#include "Stream.h"

class Client : public Stream {
 public:
  virtual int connect(IPAddress ip, uint16_t port) = 0;
  virtual int connect(const char *host, uint16_t port) = 0;
  using Print::write;
  size_t write(uint8_t b) override = 0;
  size_t write(const uint8_t *buf, size_t n) override = 0;
  virtual int read(uint8_t *buf, size_t n) = 0;
  virtual void stop() = 0;
  virtual uint8_t connected() = 0;
  virtual operator bool() = 0;
  using Stream::read;
};

#endif
