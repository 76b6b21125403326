/*
 * twinfleet_node: an Arduino Uno (or Due) with a W5100 Ethernet shield as a twinfleet node. A
 * button on pin 2 toggles the LED on pin 12 and the state is kept in sync with the nodes this one
 * follows, over MQTT (docs/protocol.md). All protocol logic is in the TwinfleetCore library
 * (firmware/core), the same code the host tests run against the conformance vectors; this sketch is
 * only glue: pins, the interrupt, the Ethernet controller, PubSubClient and the clock.
 *
 * Structure (the seed paper's foreground/background design):
 *  - background: loop() owns the Ethernet controller. It keeps the MQTT session up, lets
 *    PubSubClient read at most one packet (whose callback feeds the core), and gives the core the
 *    time so the sync grace period can end.
 *  - foreground: the button interrupt. In the paper the interrupt published the new state itself,
 *    after waiting on a semaphore while the loop was using the controller. An AVR interrupt
 *    handler cannot wait (it would wait forever: the loop it waits for cannot run until the
 *    handler returns), and an SPI transaction started inside it would corrupt one the loop was in
 *    the middle of. So the semaphore becomes a hand-off: the handler drives the LED at once (the
 *    user sees the press immediately, §5.4) and leaves the press in a mailbox; the loop serves the
 *    mailbox whenever it is not holding the controller, and the press is published then. The
 *    wait moves from the interrupt to the publish, which is what the paper's semaphore achieved.
 *
 * Written without forward references so that it compiles as plain C++ too (firmware/test/ builds
 * it on the host against fake Arduino headers).
 */
#include <Ethernet.h>
#include <PubSubClient.h>
#include <SPI.h>
#include <string.h>
#include <twinfleet_core.h>

#include "config.h"

// --- the Ethernet controller and its semaphore --------------------------------------------------

// The Ethernet client as PubSubClient reads it: every byte through the core's inbound guard, which
// lowers a PUBLISH's topic length to what the packet holds. PubSubClient 2.8 trusts that field, and
// moves as many bytes inside its 256-byte buffer: one 5-byte packet from anything posing as the
// broker overwrote the Uno's RAM with it. 8 bytes of RAM, about 250 B of flash.
class GuardedClient : public EthernetClient {
 public:
  int connect(IPAddress ip, uint16_t port) override {
    guard.reset();
    return EthernetClient::connect(ip, port);
  }
  int connect(const char *host, uint16_t port) override {
    guard.reset();
    return EthernetClient::connect(host, port);
  }
  int read() override {
    int b = EthernetClient::read();
    return b < 0 ? b : guard.pass(static_cast<uint8_t>(b));
  }
  int read(uint8_t *buf, size_t size) override {
    int n = EthernetClient::read(buf, size);
    for (int i = 0; i < n; i++) buf[i] = guard.pass(buf[i]);
    return n;
  }

 private:
  tf::InboundGuard guard;
};

GuardedClient net;
PubSubClient mqtt(net);
tf::NodeCore core;

// Held by the background loop while it drives the W5100 (SPI + PubSubClient's blocking reads and
// writes). Only the loop takes it; the interrupt reads it (see onButton) and never drives the chip.
volatile bool controllerBusy = false;

void takeController() { controllerBusy = true; }
void releaseController() { controllerBusy = false; }

// --- the foreground: the button interrupt -------------------------------------------------------

// Presses the loop has not handed to the core yet, and what the LED shows. Shared with the
// interrupt, so read-modify-writes outside it run with interrupts off.
volatile uint8_t pendingPresses = 0;
volatile bool ledShown = false;
volatile unsigned long lastPressAt = 0;
// Presses that arrived while the controller was busy: the interrupt "waited" on the semaphore.
volatile uint16_t pressesWhileBusy = 0;

void onButton() {
  unsigned long now = millis();  // safe in an ISR: it reads the counter, it does not wait for it
  if (now - lastPressAt < TF_DEBOUNCE_MS) return;
  lastPressAt = now;
  ledShown = !ledShown;
  digitalWrite(TF_LED_PIN, ledShown ? HIGH : LOW);
  if (pendingPresses < 255) pendingPresses++;
  if (controllerBusy) pressesWhileBusy++;
}

void setLed(bool on) {
  noInterrupts();
  ledShown = on;
  digitalWrite(TF_LED_PIN, on ? HIGH : LOW);
  interrupts();
}

// --- the core's outputs -------------------------------------------------------------------------

uint16_t drops = 0;

void onOutput(void *, const tf::Output &o) {
  switch (o.type) {
    case tf::kOutSubscribe:
      mqtt.subscribe(o.topic, o.qos);
      break;
    case tf::kOutUnsubscribe:
      mqtt.unsubscribe(o.topic);
      break;
    case tf::kOutPublish:
      // QoS 0 always: PubSubClient cannot publish at QoS 1 (protocol §1).
      mqtt.publish(o.topic, reinterpret_cast<const uint8_t *>(o.payload), o.payloadLen, o.retain);
      break;
    case tf::kOutLed:
      setLed(o.on);
      break;
    case tf::kOutDrop:
      drops++;
#if TF_DEBUG
      Serial.print(F("drop "));
      Serial.print(static_cast<int>(o.reason));
      Serial.print(' ');
      Serial.println(o.topic);
#endif
      break;
  }
}

// --- received messages --------------------------------------------------------------------------

// The time the current loop() pass started: messages are stamped with it so that the core sees
// the same `now` in tick() and in the message callbacks of one pass.
unsigned long loopNow = 0;

// PubSubClient hands the callback pointers into its one packet buffer, and every subscribe,
// unsubscribe or publish the core makes in reply rewrites that buffer. The core reads the
// message until its last output (a config change diffs the old source list against the new one),
// so the message is copied first. A well-formed packet that reached the callback fitted the buffer,
// so it fits this copy. A PUBLISH whose topic length claims more than the packet holds (which the
// guard above now lowers) reached it with a length wrapped below zero (65527); copyReceived refuses
// such a length. The sum this made before, `strlen(topic) + 1 + length`, wrapped too on the AVR's
// 16-bit size_t and passed: a 5-byte packet had the sketch copy 64 KB over the Uno's 2 KB of RAM.
char rx[MQTT_MAX_PACKET_SIZE];

void onMessage(char *topic, uint8_t *payload, unsigned int length) {
  if (!tf::copyReceived(rx, sizeof rx, topic, payload, length)) {
    drops++;
    return;
  }
  size_t topicLen = strlen(rx);
  // PubSubClient does not report the QoS; it only matters for the 256-byte check, which
  // PubSubClient has already made by delivering the packet at all.
  core.message(rx, reinterpret_cast<uint8_t *>(rx + topicLen + 1), static_cast<uint16_t>(length), 0,
               loopNow);
}

// --- the MQTT session ---------------------------------------------------------------------------

uint8_t mac[] = TF_MAC;
// "<prefix>-<id>" and "<prefix>/status/<id>" (protocol §1).
char clientId[tf::kMaxPrefixLen + 1 + tf::kMaxIdLen + 1];
char willTopic[tf::kMaxPrefixLen + 8 + tf::kMaxIdLen + 1];
bool sessionUp = false;
unsigned long lastAttemptAt = 0;
bool attempted = false;

void keepSession() {
  if (mqtt.connected()) return;
  if (sessionUp) {
    sessionUp = false;
    core.disconnected();
  }
  if (attempted && loopNow - lastAttemptAt < TF_RECONNECT_MS) return;
  attempted = true;
  lastAttemptAt = loopNow;
  const char *user = TF_USERNAME[0] != '\0' ? TF_USERNAME : 0;
  const char *pass = TF_PASSWORD[0] != '\0' ? TF_PASSWORD : 0;
  // Clean session, keepalive 15 s (PubSubClient's default), last will "T1 0" at QoS 1, retained.
  if (mqtt.connect(clientId, user, pass, willTopic, 1, true, "T1 0", true)) {
    sessionUp = true;
    loopNow = millis();  // connect() blocks until CONNACK; the grace period starts now
    core.connected(loopNow);
#if TF_DEBUG
    Serial.println(F("connected"));
#endif
  }
}

// Hands the presses the interrupt recorded to the core. Runs only while the loop does not hold
// the controller, so the core's publish of the new state has the controller to itself.
void servePresses() {
  noInterrupts();
  uint8_t n = pendingPresses;
  pendingPresses = 0;
  interrupts();
  for (; n > 0; n--) {
    takeController();
    core.press(loopNow);
    releaseController();
  }
}

void setup() {
#if TF_DEBUG
  Serial.begin(115200);
#endif
  pinMode(TF_LED_PIN, OUTPUT);
  pinMode(TF_BUTTON_PIN, INPUT_PULLUP);  // button between pin 2 and GND: a press pulls it low

  static const tf::NodeConfig config = {TF_NODE_ID, TF_PREFIX, "real", TF_PROFILE, TF_FIRMWARE_VERSION,
                                        TF_SYNC_GRACE_MS};
  if (core.begin(config, onOutput, 0) != tf::kConfigOk) {
    // A bad id or prefix in config.h: blink forever rather than speak a broken protocol.
    for (;;) {
      digitalWrite(TF_LED_PIN, HIGH);
      delay(100);
      digitalWrite(TF_LED_PIN, LOW);
      delay(100);
    }
  }
  strcpy(clientId, TF_PREFIX);
  strcat(clientId, "-");
  strcat(clientId, TF_NODE_ID);
  strcpy(willTopic, TF_PREFIX);
  strcat(willTopic, "/status/");
  strcat(willTopic, TF_NODE_ID);
  core.boot();

  Ethernet.init(10);  // the shield's chip select
#if TF_USE_DHCP
  Ethernet.begin(mac);
#else
  Ethernet.begin(mac, IPAddress(TF_IP), IPAddress(TF_DNS), IPAddress(TF_GATEWAY), IPAddress(TF_SUBNET));
#endif
  // After begin(): begin() resets the chip, and the library never sets these itself.
  Ethernet.setRetransmissionTimeout(TF_RETRANSMISSION_TIMEOUT_MS);
  Ethernet.setRetransmissionCount(TF_RETRANSMISSION_COUNT);

  mqtt.setServer(IPAddress(TF_BROKER_IP), TF_BROKER_PORT);
  mqtt.setCallback(onMessage);
  attachInterrupt(digitalPinToInterrupt(TF_BUTTON_PIN), onButton, FALLING);
}

void loop() {
  loopNow = millis();
  servePresses();

  takeController();
#if TF_USE_DHCP
  Ethernet.maintain();
#endif
  keepSession();
  if (sessionUp) {
    mqtt.loop();  // reads at most one packet; its callback runs the core
    core.tick(loopNow);
  }
  releaseController();

  servePresses();
}
