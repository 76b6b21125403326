/*
 * NodeCore: a twinfleet node's protocol state machine (docs/protocol.md §5), the C++ twin of
 * node/core.ts, held to the same conformance vectors (protocol/vectors/). No heap, no STL, no
 * Arduino: the board (or the host stand-in) feeds it events with the time in milliseconds and
 * carries out the outputs it reports through a callback, in order.
 */
#ifndef TF_NODE_H
#define TF_NODE_H

#include <stdint.h>

#include "tf_codec.h"
#include "tf_limits.h"

#define TF_FIRMWARE_VERSION "1.0.0"

namespace tf {

const uint32_t kDefaultSyncGraceMs = 1500;

struct NodeConfig {
  const char *id;        // copied by begin()
  const char *prefix;    // copied by begin()
  const char *kind;      // "real", "sim" or "host"; must outlive the core
  const char *profile;   // e.g. "uno-w5100"; must outlive the core
  const char *firmware;  // e.g. TF_FIRMWARE_VERSION; must outlive the core
  uint32_t syncGraceMs;
};

enum ConfigError : uint8_t {
  kConfigOk,
  kConfigBadId,
  kConfigBadPrefix,
  kConfigBadKind,
  kConfigBadProfile,
  kConfigBadFirmware,
};

enum OutputType : uint8_t { kOutSubscribe, kOutUnsubscribe, kOutPublish, kOutLed, kOutDrop };

/**
 * One thing the node does. `topic` and `payload` are NUL-terminated and valid only during the
 * callback. subscribe: topic, qos. unsubscribe: topic. publish: topic, payload, payloadLen, retain
 * (always QoS 0). led: on. drop: reason, topic (the received topic).
 */
struct Output {
  OutputType type;
  const char *topic;
  const char *payload;
  uint16_t payloadLen;
  uint8_t qos;
  bool retain;
  bool on;
  DropReason reason;
};

typedef void (*OutputFn)(void *ctx, const Output &out);

enum Phase : uint8_t { kOffline, kSyncing, kSynced };

class NodeCore {
 public:
  NodeCore();

  /** Validates and takes the configuration; the core stays inert until this returns kConfigOk. */
  ConfigError begin(const NodeConfig &config, OutputFn out, void *ctx);

  // Inputs (§5). `now` is a millisecond clock that may wrap around (millis()).
  void boot();
  void connected(uint32_t now);
  void disconnected();
  void press(uint32_t now);
  void tick(uint32_t now);
  /**
   * A received PUBLISH. `topic` is NUL-terminated; `qos` is the QoS it arrived at (0 where the
   * transport does not say: it only decides the 256-byte check). Both buffers must stay unchanged
   * for the whole call, including while the output callback runs.
   */
  void message(const char *topic, const uint8_t *payload, uint16_t len, uint8_t qos, uint32_t now);

  // What the node holds in RAM.
  Phase phase() const { return phase_; }
  bool on() const { return on_; }
  bool led() const { return heldOdd_ ? !on_ : on_; }
  uint32_t counter() const { return counter_; }
  const char *origin() const { return origin_; }
  uint32_t clock() const { return clock_; }
  uint8_t sourceCount() const { return sourceCount_; }
  const char *source(uint8_t i) const { return sources_[i]; }
  uint32_t configVersion() const { return configVersion_; }
  bool pressHeld() const { return heldAny_; }
  const char *id() const { return id_; }
  const char *prefix() const { return prefix_; }

 private:
  void completeSyncIfDue(uint32_t now);
  void completeSync();
  void localEvent(bool on, uint32_t seen);
  void ownReport(const Decoded &m);
  void sourceReport(const Decoded &m, const char *topic);
  void ownConfig(const Decoded &m);
  void follow(Slice source, const char *topic);
  void unfollow(Slice source);
  int8_t findSource(Slice s) const;
  bool isNewer(uint32_t counter, Slice origin) const;
  bool sameStamp(uint32_t counter, Slice origin) const;
  void adoptStamp(bool on, uint32_t counter, Slice origin);

  void publishReport();
  void publishConfig();
  void publishRegister();
  void publishStatus();
  void publish(Kind kind, uint16_t payloadLen, bool retain);
  void subscribe(Kind kind, const char *node, uint8_t qos);
  void unsubscribeReport(const char *node);
  void emitLed();
  void drop(DropReason reason, const char *topic);
  void emit(const Output &o);

  OutputFn out_;
  void *ctx_;
  const char *kind_;
  const char *profile_;
  const char *firmware_;
  uint32_t syncGraceMs_;
  char id_[kMaxIdLen + 1];
  char prefix_[kMaxPrefixLen + 1];

  bool on_;
  uint32_t counter_;
  char origin_[kMaxIdLen + 1];
  uint32_t clock_;
  char sources_[kMaxFollows][kMaxIdLen + 1];
  uint8_t sourceCount_;
  uint32_t configVersion_;

  Phase phase_;
  uint32_t connectedAt_;
  bool gotConfig_;
  bool gotReport_;
  bool reportRetained_;  // the retained own report equals the node's stamp
  bool configRetained_;  // this sync received an own config at least as new as the node's
  bool heldAny_;         // presses while not synced...
  bool heldOdd_;         // ...and their parity

  // Scratch for the topic and payload of the output being emitted.
  char topic_[kMaxTopicLen + 1];
  char payload_[kMaxPayloadLen + 1];
};

}  // namespace tf

#endif
