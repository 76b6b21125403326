// State and behaviour of the fake Arduino, Ethernet and PubSubClient (host tests only).
#include <cassert>

#include "Arduino.h"
#include "Ethernet.h"
#include "PubSubClient.h"

namespace fake {
unsigned long now = 0;
uint8_t pinValue[32];
uint8_t pinMode[32];
int interruptPin = -1;
void (*isr)() = nullptr;
int interruptsOff = 0;
}  // namespace fake

FakeSerial Serial;
EthernetClass Ethernet;

unsigned long millis() { return fake::now; }
void delay(unsigned long ms) { fake::now += ms; }
void pinMode(uint8_t pin, uint8_t mode) { fake::pinMode[pin] = mode; }
void digitalWrite(uint8_t pin, uint8_t value) { fake::pinValue[pin] = value; }
int digitalRead(uint8_t pin) { return fake::pinValue[pin]; }
int digitalPinToInterrupt(uint8_t pin) { return pin == 2 ? 0 : (pin == 3 ? 1 : -1); }
void attachInterrupt(int irq, void (*isr)(), int) {
  fake::interruptPin = irq == 0 ? 2 : 3;
  fake::isr = isr;
}
void noInterrupts() { fake::interruptsOff++; }
void interrupts() {
  assert(fake::interruptsOff > 0);
  fake::interruptsOff--;
}

bool PubSubClient::connect(const char *id, const char *user, const char *pass, const char *willTopic,
                           uint8_t willQos, bool willRetain, const char *willMessage, bool cleanSession) {
  clobber();
  log.push_back(std::string("connect ") + id + " user=" + (user ? user : "-") + " pass=" + (pass ? pass : "-") +
                " will=" + willTopic + ":" + willMessage + ":q" + std::to_string(willQos) +
                (willRetain ? ":retain" : "") + (cleanSession ? " clean" : " persistent"));
  up = acceptConnect;
  return up;
}

bool PubSubClient::loop() {
  if (!up || inbox.empty()) return up;
  std::pair<std::string, std::string> m = inbox.front();
  inbox.erase(inbox.begin());
  // The real library's layout: the topic (NUL-terminated in place), then the payload.
  memcpy(buffer + 3, m.first.c_str(), m.first.size() + 1);
  uint8_t *payload = buffer + 3 + m.first.size() + 1;
  memcpy(payload, m.second.data(), m.second.size());
  callback(reinterpret_cast<char *>(buffer + 3), payload, static_cast<unsigned int>(m.second.size()));
  return up;
}

bool PubSubClient::publish(const char *topic, const uint8_t *payload, unsigned int length, bool retained) {
  std::string entry = std::string("publish ") + topic + " " +
                      std::string(reinterpret_cast<const char *>(payload), length) + (retained ? " retain" : "");
  clobber();
  log.push_back(entry);
  return up;
}

bool PubSubClient::subscribe(const char *topic, uint8_t qos) {
  std::string entry = std::string("subscribe ") + topic + " " + std::to_string(qos);
  clobber();
  log.push_back(entry);
  return up;
}

bool PubSubClient::unsubscribe(const char *topic) {
  std::string entry = std::string("unsubscribe ") + topic;
  clobber();
  log.push_back(entry);
  return up;
}
