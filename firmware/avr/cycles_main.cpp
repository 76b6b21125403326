// Runs each core operation once between two writes to GPIOR0, so that the simulator
// (run-cycles.mjs) can count the cycles and the stack it took. Operation ids are the index into
// OPS in run-cycles.mjs plus one; 0 ends an operation, 0xFF ends the run.
#include <avr/io.h>
#include <stdint.h>

#include "twinfleet_core.h"

static tf::NodeCore core;
static volatile uint8_t sink;
static char buf[tf::kMaxPayloadLen + 1];

// The board's output callback hands each output to PubSubClient or the LED pin; here it only
// touches it, so the counts are the core's own work.
static void onOutput(void *, const tf::Output &o) {
  sink = static_cast<uint8_t>(o.type);
  if (o.topic) sink = static_cast<uint8_t>(o.topic[0]);
}

static void message(const char *topic, const char *payload, uint8_t qos) {
  uint16_t n = 0;
  while (payload[n]) n++;
  core.message(topic, reinterpret_cast<const uint8_t *>(payload), n, qos, 100);
}

#define BEGIN(id) GPIOR0 = (id)
#define END() GPIOR0 = 0

int main() {
  static const tf::NodeConfig config = {"lamp-1", "tf", "real", "uno-w5100", TF_FIRMWARE_VERSION, 1500};
  core.begin(config, onOutput, 0);
  uint8_t id = 1;

  BEGIN(id++);  // empty: the marker overhead, subtracted from the others
  END();
  BEGIN(id++);
  core.boot();
  END();
  BEGIN(id++);
  core.connected(0);
  END();
  BEGIN(id++);
  message("tf/config/lamp-1", "C1 1 switch-7", 1);
  END();
  BEGIN(id++);
  message("tf/report/lamp-1", "R1 0 3 lamp-1", 1);  // completes the sync: 5 subscribes, 2 publishes
  END();
  BEGIN(id++);
  core.tick(50);
  END();
  BEGIN(id++);
  message("tf/state/lamp-1", "S1 1 41", 1);
  END();
  BEGIN(id++);
  message("tf/report/switch-7", "R1 0 42 switch-7", 0);
  END();
  BEGIN(id++);
  message("tf/report/switch-7", "R1 0 42 switch-7", 0);
  END();
  BEGIN(id++);
  core.press(60);
  END();
  BEGIN(id++);
  message("tf/subscribe/lamp-1", "F1 switch-8", 1);
  END();
  BEGIN(id++);
  message("tf/unsubscribe/lamp-1", "U1 switch-8", 1);
  END();
  BEGIN(id++);
  message("tf/query", "Q1", 0);
  END();
  BEGIN(id++);
  message("tf/config/lamp-1",
          "C1 9 aaaaaaaaaaaaaaaaaaaaaa1 aaaaaaaaaaaaaaaaaaaaaa2 aaaaaaaaaaaaaaaaaaaaaa3 aaaaaaaaaaaaaaaaaaaaaa4 "
          "aaaaaaaaaaaaaaaaaaaaaa5 aaaaaaaaaaaaaaaaaaaaaa6 aaaaaaaaaaaaaaaaaaaaaa7 aaaaaaaaaaaaaaaaaaaaaa8",
          1);
  END();
  BEGIN(id++);
  message("tf/report/switch-7", "R1 2 42 switch-7", 0);
  END();
  BEGIN(id++);
  message("tf/blink/lamp-1", "R1 1 42 switch-7", 0);
  END();
  BEGIN(id++);
  {
    tf::Decoded d;
    tf::DropReason r;
    sink = tf::decode("tf", "tf/state/lamp-1", reinterpret_cast<const uint8_t *>("S1 1 41"), 7, 1, d, r);
  }
  END();
  BEGIN(id++);
  sink = static_cast<uint8_t>(tf::encodeRegister(buf, sizeof buf, "real", "uno-w5100", TF_FIRMWARE_VERSION));
  END();
  BEGIN(id++);
  sink = static_cast<uint8_t>(tf::encodeReport(buf, sizeof buf, true, 4294967295UL, "aaaaaaaaaaaaaaaaaaaaaa1"));
  END();

  GPIOR0 = 0xFF;
  for (;;) {
  }
}
