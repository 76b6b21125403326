// The same program as footprint_main.cpp without the core: what avr-libc's start-up costs alone.
#include <stdint.h>

static volatile uint8_t sink;

int main() {
  sink = 1;
  for (;;) {
  }
}
