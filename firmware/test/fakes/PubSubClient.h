// Fake of knolleary/pubsubclient 2.8's API, as far as the sketch uses it. Like the real library it
// hands the callback pointers into ONE packet buffer and overwrites that buffer on every
// subscribe, unsubscribe and publish, so the test sees whether the sketch copes with that.
#ifndef FAKE_PUBSUBCLIENT_H
#define FAKE_PUBSUBCLIENT_H

#include <string>
#include <vector>

#include "Arduino.h"
#include "Ethernet.h"

#define MQTT_MAX_PACKET_SIZE 256

class PubSubClient {
 public:
  typedef void (*Callback)(char *, uint8_t *, unsigned int);
  explicit PubSubClient(EthernetClient &) {}
  PubSubClient &setServer(IPAddress ip, uint16_t port) {
    serverIp = ip;
    serverPort = port;
    return *this;
  }
  PubSubClient &setCallback(Callback cb) {
    callback = cb;
    return *this;
  }
  bool connect(const char *id, const char *user, const char *pass, const char *willTopic, uint8_t willQos,
               bool willRetain, const char *willMessage, bool cleanSession);
  bool connected() { return up; }
  bool loop();
  bool publish(const char *topic, const uint8_t *payload, unsigned int length, bool retained);
  bool subscribe(const char *topic, uint8_t qos);
  bool unsubscribe(const char *topic);

  // Test controls.
  void queue(const std::string &topic, const std::string &payload) { inbox.push_back({topic, payload}); }
  bool acceptConnect = true;
  bool up = false;
  std::vector<std::string> log;  // "connect …", "subscribe t 1", "publish t payload retain", …
  IPAddress serverIp;
  uint16_t serverPort = 0;

 private:
  void clobber() { memset(buffer, 'X', sizeof buffer); }
  Callback callback = nullptr;
  std::vector<std::pair<std::string, std::string>> inbox;
  uint8_t buffer[MQTT_MAX_PACKET_SIZE];
};

#endif
