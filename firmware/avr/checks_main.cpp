// Checks that only the ATmega328P can fail, run in avr8js by run-checks.mjs: what depends on its
// 16-bit int and size_t. Each check writes 1 (passed) or 2 (failed) to GPIOR0; 0xFF ends the run.
// The names are in run-checks.mjs, in this order.
#include <avr/io.h>
#include <stdint.h>

#include "twinfleet_core.h"

static char rx[256];
static uint8_t packet[256];  // stands for PubSubClient's packet buffer

static void check(bool ok) { GPIOR0 = ok ? 1 : 2; }

int main() {
  // PubSubClient 2.8 given the PUBLISH 30 03 00 0A 78 (a topic length of 10 in a 3-byte packet):
  // len 5 bytes read, llen 1, tl 10, and the callback's length is len - llen - 3 - tl.
  volatile uint16_t len = 5, llen = 1, tl = 10;
  unsigned int wrapped = len - llen - 3 - tl;
  check(wrapped == 65527u);
  check(!tf::copyReceived(rx, sizeof rx, "tf/state/x", packet + 14, wrapped));
  check(!tf::copyReceived(rx, sizeof rx, "", packet, 65535u));
  // The edges: topic, NUL and payload fill the 256 bytes exactly, or one more.
  check(tf::copyReceived(rx, sizeof rx, "tf/state/lamp-1", packet, 240));
  check(!tf::copyReceived(rx, sizeof rx, "tf/state/lamp-1", packet, 241));
  check(tf::copyReceived(rx, sizeof rx, "", packet, 255));
  check(!tf::copyReceived(rx, sizeof rx, "", packet, 256));
  GPIOR0 = 0xff;
  for (;;) {
  }
}
