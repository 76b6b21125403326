// What the vectors do not reach: configuration checks, counter formatting at its edges, the sync
// grace period across the wrap of millis(), and the packet-size arithmetic.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "twinfleet_core.h"

namespace {

int failures = 0;

void expect(bool ok, const std::string &what) {
  if (!ok) {
    failures++;
    std::printf("FAIL %s\n", what.c_str());
  }
}

std::vector<std::string> outputs;

void collect(void *, const tf::Output &o) {
  switch (o.type) {
    case tf::kOutSubscribe:
      outputs.push_back(std::string("subscribe ") + o.topic);
      break;
    case tf::kOutUnsubscribe:
      outputs.push_back(std::string("unsubscribe ") + o.topic);
      break;
    case tf::kOutPublish:
      outputs.push_back(std::string("publish ") + o.topic + " " + o.payload);
      break;
    case tf::kOutLed:
      outputs.push_back(o.on ? "led 1" : "led 0");
      break;
    case tf::kOutDrop:
      outputs.push_back(std::string("drop ") + tf::dropReasonName(o.reason));
      break;
  }
}

tf::NodeConfig config(const char *id, const char *prefix, const char *kind = "host") {
  tf::NodeConfig c = {id, prefix, kind, "uno-w5100", "1.0.0", 1500};
  return c;
}

// The bytes a client reads through a fresh inbound guard.
std::string guarded(const std::string &in) {
  tf::InboundGuard g;
  std::string out;
  for (char c : in) out += static_cast<char>(g.pass(static_cast<uint8_t>(c)));
  return out;
}

std::string report(uint32_t counter) {
  char buf[64];
  tf::encodeReport(buf, sizeof buf, true, counter, "A");
  return buf;
}

}  // namespace

int main() {
  tf::NodeCore core;
  expect(core.begin(config("", "tf"), collect, nullptr) == tf::kConfigBadId, "empty id rejected");
  expect(core.begin(config("aaaaaaaaaaaaaaaaaaaaaaaa", "tf"), collect, nullptr) == tf::kConfigBadId, "24-char id rejected");
  expect(core.begin(config("a.b", "tf"), collect, nullptr) == tf::kConfigBadId, "id with a dot rejected");
  expect(core.begin(config("A", "tf/x"), collect, nullptr) == tf::kConfigBadPrefix, "prefix with a slash rejected");
  expect(core.begin(config("A", "aaaaaaaaaaaaa"), collect, nullptr) == tf::kConfigBadPrefix, "13-char prefix rejected");
  expect(core.begin(config("A", "tf", "board"), collect, nullptr) == tf::kConfigBadKind, "unknown kind rejected");
  expect(core.begin(config("aaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaa"), collect, nullptr) == tf::kConfigOk,
         "longest id and prefix accepted");

  expect(report(0) == "R1 1 0 A", "counter 0");
  expect(report(9) == "R1 1 9 A", "counter 9");
  expect(report(10) == "R1 1 10 A", "counter 10");
  expect(report(1000000000UL) == "R1 1 1000000000 A", "counter 10^9");
  expect(report(4294967295UL) == "R1 1 4294967295 A", "largest counter");
  char small[8];
  tf::Writer w(small, sizeof small);
  w.str("R1 1 123456");
  expect(!w.ok() && std::strlen(small) == 7, "a writer that runs out of room says so and stays terminated");

  expect(tf::publishPacketBytes(10, 100, 0) == 1 + 1 + 2 + 10 + 100, "packet size, one length byte");
  expect(tf::publishPacketBytes(10, 200, 1) == 1 + 2 + 2 + 10 + 2 + 200, "packet size, two length bytes");

  // The grace period runs across the 32-bit wrap of millis().
  tf::NodeCore wrap;
  wrap.begin(config("A", "tf"), collect, nullptr);
  wrap.boot();
  wrap.connected(0xFFFFFF00UL);
  wrap.tick(static_cast<uint32_t>(0xFFFFFF00UL + 1499));
  expect(wrap.phase() == tf::kSyncing, "still syncing 1 ms before the grace ends");
  wrap.tick(static_cast<uint32_t>(0xFFFFFF00UL + 1500));  // wrapped to 1244
  expect(wrap.phase() == tf::kSynced, "synced when the grace ends after the wrap");

  // A counter above the ceiling (2^24 below the largest) is dropped and leaves the clock; one at it
  // is taken, and the node's own events go on above it.
  tf::NodeCore sat;
  sat.begin(config("A", "tf"), collect, nullptr);
  sat.boot();
  sat.connected(0);
  sat.tick(2000);
  outputs.clear();
  const char *high = "S1 1 4294967295";
  sat.message("tf/state/A", reinterpret_cast<const uint8_t *>(high), static_cast<uint16_t>(std::strlen(high)), 1, 2001);
  expect(sat.clock() == 0 && !sat.on(), "a set at the largest counter is dropped");
  expect(!outputs.empty() && outputs.back().find("implausible-counter") != std::string::npos,
         "dropped as implausible-counter");
  const char *ceiling = "S1 1 4278190079";
  sat.message("tf/state/A", reinterpret_cast<const uint8_t *>(ceiling), static_cast<uint16_t>(std::strlen(ceiling)), 1, 2002);
  expect(sat.clock() == 4278190080UL && sat.on(), "a set at the ceiling is taken");
  sat.press(2003);
  expect(sat.counter() == 4278190081UL && !sat.on(), "a press goes on above the ceiling");

  // The copy of a received message refuses any length that does not fit, the largest included (on
  // the board, avr/checks_main.cpp checks the 16-bit lengths PubSubClient hands over).
  char rx[256];
  uint8_t bytes[256] = {'S', '1'};
  expect(tf::copyReceived(rx, sizeof rx, "tf/state/A", bytes, 2) && std::strcmp(rx, "tf/state/A") == 0 &&
             std::memcmp(rx + 11, "S1", 2) == 0,
         "a message is copied as topic, NUL, payload");
  expect(tf::copyReceived(rx, sizeof rx, "tf/state/A", bytes, 245), "256 bytes in all fit");
  expect(!tf::copyReceived(rx, sizeof rx, "tf/state/A", bytes, 246), "257 do not");
  expect(!tf::copyReceived(rx, sizeof rx, "tf/state/x", bytes, static_cast<unsigned int>(-9)),
         "a length wrapped below zero is refused");

  // The inbound guard hands well-formed packets on unchanged, and lowers a PUBLISH's topic length to
  // what its packet holds (PubSubClient 2.8 moves that many bytes inside its 256-byte buffer).
  const std::string fine = std::string("\x20\x02\x00\x00", 4) +                   // CONNACK
                           std::string("\x90\x03\x00\x01\x01", 5) +               // SUBACK
                           std::string("\x30\x0a\x00\x04tf/qQ1 x1", 12) +          // PUBLISH, QoS 0
                           std::string("\x32\x0c\x00\x04tf/q\x00\x07Q1 x1", 14) +  // PUBLISH, QoS 1
                           std::string("\xd0\x00", 2) +                            // PINGRESP
                           std::string("\x30\xaa\x02\x00\x06tf/q/x", 11) + std::string(292, 'a');
  expect(guarded(fine) == fine, "well-formed packets pass the guard unchanged");
  expect(guarded(std::string("\x30\x03\x04\x00x", 5)) == std::string("\x30\x03\x00\x00x", 5),
         "a 1,024-byte topic length in a 3-byte packet is lowered (to 0: its high byte is past it)");
  expect(guarded(std::string("\x30\x03\x00\x0ax", 5) + fine) == std::string("\x30\x03\x00\x01x", 5) + fine,
         "a topic length of 10 in a 3-byte packet is lowered to 1, and the packets after it pass");
  expect(guarded(std::string("\x32\x04\x00\x05\x00\x01", 6)) == std::string("\x32\x04\x00\x00\x00\x01", 6),
         "at QoS 1 the packet id is not topic");
  expect(guarded(std::string("\x30\x00\x01\x01", 4) + fine) == std::string("\x30\x00\x00\x00", 4) + fine,
         "a PUBLISH of no bytes: the two bytes read as its topic length are lowered to 0");
  expect(guarded(std::string("\x30\xff\xff\xff\xff", 5) + fine) == std::string("\x30\xff\xff\xff\xff", 5) + fine,
         "after a remaining length of 5 bytes (the client drops the connection) the guard starts over");

  std::printf("core: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
