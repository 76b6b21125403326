// The core as a board links it: one global NodeCore and every entry point the sketch calls, so
// avr-size of this program minus baseline_main.cpp is the core's own flash and static RAM.
#include <stdint.h>

#include "twinfleet_core.h"

static tf::NodeCore core;
static tf::InboundGuard guard;
static char rx[16];  // the sketch's is 256 bytes, counted with the rest of the firmware
static volatile uint8_t sink;

static void onOutput(void *, const tf::Output &o) { sink = static_cast<uint8_t>(o.type); }

int main() {
  static const tf::NodeConfig config = {"A", "tf", "real", "uno-w5100", TF_FIRMWARE_VERSION, 1500};
  core.begin(config, onOutput, 0);
  core.boot();
  uint32_t now = sink;
  core.connected(now);
  sink = guard.pass(sink);
  if (tf::copyReceived(rx, sizeof rx, "tf/query", reinterpret_cast<const uint8_t *>("Q1"), 2)) {
    core.message(rx, reinterpret_cast<const uint8_t *>(rx + 9), 2, sink, now);
  }
  core.tick(now);
  core.press(now);
  core.disconnected();
  sink = core.led();
  for (;;) {
  }
}
