// Fake Arduino core for compiling the sketch on a PC (as pubsubclient's tests do): the pins, the
// clock and the interrupt are plain variables the test drives. Host-only; never on a board.
#ifndef FAKE_ARDUINO_H
#define FAKE_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t byte;
typedef bool boolean;

#define HIGH 1
#define LOW 0
#define INPUT 0
#define OUTPUT 1
#define INPUT_PULLUP 2
#define FALLING 2
#define F(s) (s)

unsigned long millis();
void delay(unsigned long ms);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t value);
int digitalRead(uint8_t pin);
int digitalPinToInterrupt(uint8_t pin);
void attachInterrupt(int irq, void (*isr)(), int mode);
void noInterrupts();
void interrupts();

class FakeSerial {
 public:
  void begin(unsigned long) {}
  void print(const char *) {}
  void print(char) {}
  void print(int) {}
  void println(const char *) {}
};
extern FakeSerial Serial;

namespace fake {
extern unsigned long now;
extern uint8_t pinValue[32];
extern uint8_t pinMode[32];
extern int interruptPin;
extern void (*isr)();
extern int interruptsOff;  // nesting depth of noInterrupts(); must be 0 between calls
}  // namespace fake

#endif
