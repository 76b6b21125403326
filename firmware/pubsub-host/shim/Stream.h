// Arduino's Print and Stream interfaces, as far as PubSubClient 2.8 uses them (firmware/pubsub-host/).
#ifndef PUBSUB_HOST_STREAM_H
#define PUBSUB_HOST_STREAM_H

#include <stddef.h>
#include <stdint.h>

class Print {
 public:
  virtual ~Print() {}
  virtual size_t write(uint8_t b) = 0;
  virtual size_t write(const uint8_t *buf, size_t n) {
    size_t i = 0;
    while (i < n && write(buf[i]) == 1) i++;
    return i;
  }
};

class Stream : public Print {
 public:
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int peek() = 0;
  virtual void flush() = 0;
};

#endif
