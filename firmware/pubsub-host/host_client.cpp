/*
 * PubSubClient 2.8, unmodified, on a PC's TCP socket, driven as the sketch drives it
 * (firmware/twinfleet_node: connect() as keepSession() calls it, retried every 5 s, and loop() over
 * and over): a measure of what the library itself does when its broker misbehaves, beside the
 * simulated node (docs/device-model.md, "A packet that arrives slowly"). Prints, with milliseconds
 * since its start, every packet the client writes (the bytes of one of at most 8: a PUBACK's id),
 * every loop() that blocked over 100 ms, every state() change, every socket it stops and every
 * callback (the topic's length and first bytes, and the length it was given; the payload is not
 * read: it may lie past the buffer). With `guard`, every
 * byte read passes the sketch's inbound guard (firmware/core/src/tf_receive.h) first, as on a board.
 * Build: `make pubsub-host PUBSUB_DIR=<a checkout of knolleary/pubsubclient at v2.8>`; run:
 * `build/pubsub-host <broker port> <run ms> [guard]`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "PubSubClient.h"
#include "tf_receive.h"

namespace {

double clockMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

const double kStart = clockMs();

/** The sketch's inbound guard, when asked for (`guard`): null reads the bytes as they come. */
tf::InboundGuard *guard = nullptr;

void onMessage(char *topic, uint8_t *, unsigned int length);

/** The W5100's EthernetClient as PubSubClient sees it, on a blocking POSIX socket. */
class SocketClient : public Client {
 public:
  int connect(IPAddress ip, uint16_t port) override {
    if (guard != nullptr) guard->reset();
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl((uint32_t(ip[0]) << 24) | (ip[1] << 16) | (ip[2] << 8) | ip[3]);
    if (::connect(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0) return 1;
    close(fd_);
    fd_ = -1;
    return 0;
  }
  int connect(const char *, uint16_t) override { return 0; }
  size_t write(uint8_t b) override { return write(&b, 1); }
  size_t write(const uint8_t *buf, size_t n) override {
    if (fd_ < 0) return 0;
    printf("%8lu ms  writes %zu bytes, packet type 0x%02x", millis(), n, buf[0]);
    for (size_t i = 0; n <= 8 && i < n; i++) printf("%s%02x", i == 0 ? ": " : " ", buf[i]);
    printf("\n");
    fflush(stdout);
    return send(fd_, buf, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n) ? n : 0;
  }
  int available() override {
    int n = 0;
    if (fd_ >= 0) ioctl(fd_, FIONREAD, &n);
    return n;
  }
  int read() override {
    uint8_t b;
    if (fd_ < 0 || recv(fd_, &b, 1, 0) != 1) return -1;
    return guard != nullptr ? guard->pass(b) : b;
  }
  int read(uint8_t *buf, size_t n) override {
    int r = fd_ < 0 ? -1 : static_cast<int>(recv(fd_, buf, n, 0));
    for (int i = 0; guard != nullptr && i < r; i++) buf[i] = guard->pass(buf[i]);
    return r;
  }
  int peek() override { return -1; }
  void flush() override {}
  void stop() override {
    if (fd_ < 0) return;
    close(fd_);
    fd_ = -1;
    printf("%8lu ms  stops the socket\n", millis());
  }
  // Open until the peer's FIN has been read past: what EthernetClient::connected() says.
  uint8_t connected() override {
    if (fd_ < 0) return 0;
    char c;
    ssize_t r = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
  operator bool() override { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace

unsigned long millis() { return static_cast<unsigned long>(clockMs() - kStart); }

namespace {

void onMessage(char *topic, uint8_t *, unsigned int length) {
  size_t n = strlen(topic);
  printf("%8lu ms  callback: topic of %zu bytes \"", millis(), n);
  for (size_t i = 0; i < n && i < 40; i++) {
    unsigned char c = static_cast<unsigned char>(topic[i]);
    if (c >= 0x20 && c < 0x7f) putchar(c);
    else printf("\\x%02x", c);
  }
  printf("%s\", length %u\n", n > 40 ? "..." : "", length);
  fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "guard") != 0)) {
    fprintf(stderr, "usage: pubsub-host <broker port on 127.0.0.1> <run ms> [guard]\n");
    return 2;
  }
  tf::InboundGuard theGuard;
  if (argc == 4) guard = &theGuard;
  const int port = atoi(argv[1]);
  const unsigned long runMs = strtoul(argv[2], nullptr, 10);
  SocketClient net;
  PubSubClient mqtt(net);
  mqtt.setServer(IPAddress(127, 0, 0, 1), static_cast<uint16_t>(port));
  mqtt.setCallback(onMessage);
  int state = 1000;
  bool attempted = false;
  unsigned long lastAttempt = 0;
  while (millis() < runMs) {
    if (!mqtt.connected()) {
      if (attempted && millis() - lastAttempt < 5000) {
        usleep(1000);
        continue;
      }
      attempted = true;
      lastAttempt = millis();
      bool ok = mqtt.connect("tf-n-0000", nullptr, nullptr, "tf/status/n-0000", 1, true, "T1 0", true);
      printf("%8lu ms  connect() %s, state() %d\n", millis(), ok ? "true" : "false", mqtt.state());
      fflush(stdout);
      continue;
    }
    unsigned long a = millis();
    mqtt.loop();
    unsigned long b = millis();
    if (b - a > 100) printf("%8lu ms  loop() blocked %lu ms\n", b, b - a);
    if (mqtt.state() != state) printf("%8lu ms  state() %d\n", b, state = mqtt.state());
    fflush(stdout);
    usleep(1000);
  }
  return 0;
}
