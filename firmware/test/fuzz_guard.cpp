// A seeded fuzzer of the inbound guard (core/src/tf_receive.h): random streams of MQTT packets —
// well-formed, with topic lengths past their packet, remaining lengths of 0-5 bytes, packets past
// the 256-byte buffer, garbage — are read through the guard as PubSubClient 2.8 reads them (its
// readPacket: fixed header, up to 4 length bytes, for a PUBLISH always 2 topic-length bytes, the
// rest kept while it fits the buffer). Every PUBLISH that fits the buffer must then hold its topic
// (what PubSubClient moves inside its buffer stays in the packet), and the sketch's copy must take
// the length PubSubClient then computes, wrapped or not, without writing past its 256 bytes.
//   fuzz_guard [--seed N] [--streams N]
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_rng.h"
#include "twinfleet_core.h"

namespace {

using fuzz::below;
using fuzz::next;

void varint(std::vector<uint8_t> &out, uint32_t n) {
  do {
    uint8_t d = n % 128;
    n /= 128;
    if (n > 0) d |= 128;
    out.push_back(d);
  } while (n > 0);
}

std::vector<uint8_t> stream() {
  std::vector<uint8_t> s;
  for (uint32_t packets = 1 + below(8); packets > 0; packets--) {
    uint8_t header = below(4) == 0 ? static_cast<uint8_t>(next()) : static_cast<uint8_t>(0x30 | (below(4) << 1));
    uint32_t topic = below(4) == 0 ? below(70000) : below(40);
    uint32_t body = below(3) == 0 ? below(400) : below(40);
    // A topic length past the buffer is always a lie: a packet that big is dropped unread anyway.
    bool lie = topic > 300 || below(3) == 0;
    uint32_t remaining = lie ? below(300) : 2 + topic + ((header & 6) ? 2 : 0) + body;
    s.push_back(header);
    if (below(20) == 0) {
      for (int i = 0; i < 5; i++) s.push_back(static_cast<uint8_t>(0x80 | next()));  // 5 length bytes
      continue;
    }
    varint(s, remaining);
    s.push_back(static_cast<uint8_t>(topic >> 8));
    s.push_back(static_cast<uint8_t>(topic));
    for (uint32_t i = 2; i < remaining; i++) s.push_back(static_cast<uint8_t>(below(3) == 0 ? next() : 'a'));
  }
  return s;
}

// Reads `s` as PubSubClient 2.8 does, through the guard; returns a problem or "".
std::string readAll(const std::vector<uint8_t> &s) {
  tf::InboundGuard guard;
  size_t at = 0;
  auto byte = [&](uint8_t &b) {
    if (at >= s.size()) return false;
    b = guard.pass(s[at++]);
    return true;
  };
  for (;;) {
    uint8_t header, b;
    if (!byte(header)) return "";
    uint32_t remaining = 0, shift = 0;
    uint8_t lengthBytes = 0;
    do {
      if (lengthBytes == 4) {  // a fifth: PubSubClient drops the connection; a new one starts
        guard.reset();
        break;
      }
      if (!byte(b)) return "";
      remaining |= static_cast<uint32_t>(b & 127) << shift;
      shift += 7;
      lengthBytes++;
    } while (b & 128);
    if (b & 128) continue;
    uint32_t len = 1 + lengthBytes;
    uint32_t topic = 0;
    bool publish = (header & 0xF0) == 0x30;
    if (publish) {
      uint8_t hi, lo;
      if (!byte(hi) || !byte(lo)) return "";
      topic = (hi << 8) | lo;
      len += 2;
    }
    for (uint32_t i = publish ? 2 : 0; i < remaining; i++) {
      if (!byte(b)) return "";
      len++;
    }
    if (!publish || len > 256) continue;  // a packet past the buffer is dropped unread
    // PubSubClient moves the topic one byte down and ends it with a NUL: both inside the packet?
    if (lengthBytes + 3 + topic > len) {
      return "a PUBLISH whose topic (" + std::to_string(topic) + " bytes) is past its " + std::to_string(len) +
             "-byte packet reached the client";
    }
    // The callback's length, as PubSubClient computes it in an AVR's 16-bit unsigned int (it may
    // wrap below zero): the sketch's copy must refuse it or fit it (ASan watches rx).
    uint16_t length = static_cast<uint16_t>(len - lengthBytes - 3 - topic - ((header & 6) == 2 ? 2 : 0));
    static char rx[256];
    static uint8_t buffer[256];
    std::string name(topic, 'a');
    tf::copyReceived(rx, sizeof rx, name.c_str(), buffer, length);
  }
}

}  // namespace

int main(int argc, char **argv) {
  uint64_t seed = 1, streams = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--seed") seed = std::stoull(argv[i + 1]);
    else if (f == "--streams") streams = std::stoull(argv[i + 1]);
  }
  uint64_t bytes = 0;
  for (uint64_t n = 0; n < streams; n++) {
    fuzz::start(seed, n);
    std::vector<uint8_t> s = stream();
    bytes += s.size();
    std::string problem = readAll(s);
    if (!problem.empty()) {
      std::printf("FAIL seed %llu stream %llu: %s\n", (unsigned long long)seed, (unsigned long long)n, problem.c_str());
      return 1;
    }
  }
  std::printf("fuzz_guard: seed %llu, %llu streams, %llu bytes, no findings\n", (unsigned long long)seed,
              (unsigned long long)streams, (unsigned long long)bytes);
  return 0;
}
