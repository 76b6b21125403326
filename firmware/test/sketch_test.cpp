// Builds the real sketch (twinfleet_node.ino) on the host against the fakes in fakes/ and drives
// it: connect and sync, a config change that arrives in PubSubClient's reused buffer, a button
// press through the interrupt, debouncing, and a press while the broker is away.
#include <cstdio>
#include <string>
#include <vector>

#include "../twinfleet_node/twinfleet_node.ino"

namespace {

int failures = 0;

void expect(bool ok, const std::string &what) {
  if (!ok) {
    failures++;
    std::printf("FAIL %s\n", what.c_str());
  }
}

// The calls logged since the last take().
std::vector<std::string> take() {
  std::vector<std::string> l = mqtt.log;
  mqtt.log.clear();
  return l;
}

void expectLog(const std::vector<std::string> &want, const std::string &what) {
  std::vector<std::string> got = take();
  if (got != want) {
    failures++;
    std::printf("FAIL %s\n  expected:\n", what.c_str());
    for (const auto &s : want) std::printf("    %s\n", s.c_str());
    std::printf("  got:\n");
    for (const auto &s : got) std::printf("    %s\n", s.c_str());
  }
}

void press() {
  fake::isr();
  expect(fake::interruptsOff == 0, "interrupts are on after the ISR");
}

}  // namespace

int main() {
  setup();
  expect(fake::pinMode[12] == OUTPUT && fake::pinMode[2] == INPUT_PULLUP, "LED on 12, button on 2 with pull-up");
  expect(fake::interruptPin == 2 && fake::isr != nullptr, "button interrupt attached to pin 2");
  expect(Ethernet.retransmissionTimeoutMs == 200 && Ethernet.retransmissionCount == 8,
         "W5100 retransmission set to 200 ms / 8");
  expect(Ethernet.begun && Ethernet.csPin == 10, "static IP, CS on pin 10");
  expect(mqtt.serverPort == 1883, "broker port");
  expect(fake::pinValue[12] == LOW, "LED off after boot");

  fake::now = 100;
  loop();
  expectLog({"connect tf-lamp-1 user=- pass=- will=tf/status/lamp-1:T1 0:q1:retain clean",
             "subscribe tf/config/lamp-1 1", "subscribe tf/report/lamp-1 1"},
            "connect with the last will, then subscribe to the retained own topics");

  mqtt.queue("tf/config/lamp-1", "C1 2 sw-1");
  mqtt.queue("tf/report/lamp-1", "R1 1 5 sw-1");
  fake::now = 110;
  loop();
  fake::now = 120;
  loop();
  expectLog({"subscribe tf/state/lamp-1 1", "subscribe tf/subscribe/lamp-1 1", "subscribe tf/unsubscribe/lamp-1 1",
             "subscribe tf/query 0", "subscribe tf/report/sw-1 0", "publish tf/status/lamp-1 T1 1 retain",
             "publish tf/register/lamp-1 G1 real uno-w5100 1.0.0"},
            "sync on the retained config and report");
  expect(core.phase() == tf::kSynced && fake::pinValue[12] == HIGH, "synced with the retained state, LED on");

  // Each subscribe rewrites PubSubClient's buffer; the sketch must have copied the message.
  mqtt.queue("tf/config/lamp-1", "C1 3 sw-2 sw-3");
  fake::now = 200;
  loop();
  expectLog({"unsubscribe tf/report/sw-1", "subscribe tf/report/sw-2 0", "subscribe tf/report/sw-3 0"},
            "a new retained config swaps the subscriptions");
  expect(core.sourceCount() == 2 && std::string(core.source(0)) == "sw-2" && std::string(core.source(1)) == "sw-3",
         "the new sources survive the reused buffer");

  fake::now = 1000;
  press();
  expect(fake::pinValue[12] == LOW, "the interrupt drives the LED at once");
  fake::now = 1010;
  press();  // bounce
  loop();
  expectLog({"publish tf/report/lamp-1 R1 0 6 lamp-1 retain"}, "one press (debounced) is published by the loop");

  // The broker goes away: presses are held and published after the next sync.
  mqtt.up = false;
  mqtt.acceptConnect = false;
  fake::now = 2000;
  loop();
  expect(core.phase() == tf::kOffline, "the core sees the disconnect");
  fake::now = 2100;
  press();
  loop();
  expect(fake::pinValue[12] == HIGH, "a press while offline still shows on the LED");
  mqtt.acceptConnect = true;
  take();
  fake::now = 2000 + TF_RECONNECT_MS + 200;  // past the next attempt, at most TF_RECONNECT_MS after the last
  loop();
  expectLog({"connect tf-lamp-1 user=- pass=- will=tf/status/lamp-1:T1 0:q1:retain clean",
             "subscribe tf/config/lamp-1 1", "subscribe tf/report/lamp-1 1"},
            "reconnect after TF_RECONNECT_MS");
  fake::now = 2000 + TF_RECONNECT_MS + 1700;  // past the 1500 ms grace: nothing retained arrived
  loop();
  std::vector<std::string> got = take();
  expect(!got.empty() && got.back() == "publish tf/report/lamp-1 R1 1 7 lamp-1 retain",
         "the held press is published once synced again");

  // A burst 20 ms apart (the simulated nodes' pinned case, sim/test/node/debounce.test.ts): the
  // interrupt takes a press every TF_DEBOUNCE_MS from the last one it took, not from the last edge.
  take();
  unsigned long burst = fake::now + 1000;
  for (int i = 0; i < 9; i++) {
    fake::now = burst + 20 * i;
    press();
    loop();
  }
  expectLog({"publish tf/report/lamp-1 R1 0 8 lamp-1 retain", "publish tf/report/lamp-1 R1 1 9 lamp-1 retain",
             "publish tf/report/lamp-1 R1 0 10 lamp-1 retain"},
            "9 presses 20 ms apart: taken at 0, 60 and 120 ms");

  // PubSubClient reads the broker's bytes through the Client it was given: a PUBLISH whose topic
  // length (1,024) is past its packet reaches it lowered to what the packet holds, and the packets
  // after it unchanged; a new connection starts the guard afresh.
  Client &client = net;
  net.incoming = std::string("\x30\x03\x04\x00x\x30\x03\x00\x01x", 10);
  std::string read;
  for (int b; (b = client.read()) >= 0;) read += static_cast<char>(b);
  expect(read == std::string("\x30\x03\x00\x00x\x30\x03\x00\x01x", 10),
         "the topic length of a PUBLISH is lowered to what its packet holds before PubSubClient reads it");
  net.incoming = std::string("\x30\x05\x00\x09tf/", 7);
  net.readAt = 0;
  uint8_t some[3];
  int n = client.read(some, 3);
  client.connect(IPAddress(1, 2, 3, 4), 1883);  // cut after 3 bytes: the rest never comes
  net.incoming = std::string("\x30\x03\x00\x0ax", 5);
  net.readAt = 0;
  read.clear();
  for (int b; (b = client.read()) >= 0;) read += static_cast<char>(b);
  expect(n == 3 && read == std::string("\x30\x03\x00\x01x", 5), "a new connection starts at a fixed header");

  std::printf("sketch: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
