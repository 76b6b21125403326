/*
 * The payload grammar of protocol v1 (docs/protocol.md §2-§3, protocol/codec.ts): decoding a received
 * PUBLISH into a Decoded view, with the drop reason for anything malformed, and encoding the messages
 * a node sends into caller-owned buffers. No allocation: a Decoded points into the input it came from.
 */
#ifndef TF_CODEC_H
#define TF_CODEC_H

#include <stdint.h>

#include "tf_limits.h"

namespace tf {

/** Why a message was rejected; the order and names match protocol/errors.ts. */
enum DropReason : uint8_t {
  kBadTopic,
  kBadId,
  kBadPayload,
  kWrongVersion,
  kTooLong,
  kSelfFollow,
  kFollowsFull,
  kNotFollowing,
  kStale,
  kImplausibleCounter,
};

/** The reason as the vectors spell it ("bad-topic", ...). Host-side helper; unused on the board. */
const char *dropReasonName(DropReason r);

/** Topic actions, in the order of the action table in tf_codec.cpp. */
enum Kind : uint8_t {
  kReport,
  kConfig,
  kStatus,
  kRegister,
  kState,
  kSubscribe,
  kUnsubscribe,
  kQuery,
};

/** A run of bytes inside the input (not NUL-terminated). */
struct Slice {
  const char *p;
  uint8_t n;
};

/** A decoded message. Which fields are set depends on `kind` (see decode). */
struct Decoded {
  Kind kind;
  Slice node;        // the node the topic names (not for query)
  bool on;           // report, status, state
  uint32_t counter;  // report and state counter, config version
  Slice id;          // report origin, subscribe/unsubscribe source
  uint8_t sourceCount;
  Slice sources[kMaxFollows];  // config
};

bool isIdChar(char c);
/** `[A-Za-z0-9_-]{1,23}` */
bool isNodeId(const char *s, uint16_t n);
/** `[A-Za-z0-9_-]{1,12}` */
bool isPrefix(const char *s, uint16_t n);
bool sliceEquals(Slice a, const char *nulTerminated);

/** Bytes of the whole MQTT PUBLISH packet carrying this topic and payload (protocol/limits.ts). */
uint16_t publishPacketBytes(uint16_t topicLen, uint16_t payloadLen, uint8_t qos);

/**
 * Decodes a received PUBLISH for a node under `prefix` (NUL-terminated). `topic` is NUL-terminated;
 * `payload` has `len` bytes. On success fills `out` (slices into topic and payload) and returns
 * true; otherwise sets `reason` and returns false. Checks run in the order of protocol/codec.ts, so
 * the first fault found names the same reason as the TypeScript model.
 */
bool decode(const char *prefix, const char *topic, const uint8_t *payload, uint16_t len, uint8_t qos,
            Decoded &out, DropReason &reason);

/** Appends to a fixed buffer, always NUL-terminated; `ok` turns false if anything did not fit. */
class Writer {
 public:
  Writer(char *buf, uint16_t cap) : buf_(buf), cap_(cap), len_(0), ok_(true) { buf_[0] = '\0'; }
  Writer &str(const char *s);
  Writer &slice(Slice s);
  Writer &ch(char c);
  Writer &u32(uint32_t v);
  /** A string from the action table (flash on AVR). */
  Writer &action(Kind k);
  uint16_t length() const { return len_; }
  bool ok() const { return ok_; }

 private:
  char *buf_;
  uint16_t cap_;
  uint16_t len_;
  bool ok_;
};

/** `<prefix>/<action>/<node>` or `<prefix>/query`; returns the topic length. */
uint16_t encodeTopic(char *buf, uint16_t cap, const char *prefix, Kind kind, const char *node);
uint16_t encodeTopic(char *buf, uint16_t cap, const char *prefix, Kind kind, Slice node);
/** `R1 <value> <counter> <origin>` */
uint16_t encodeReport(char *buf, uint16_t cap, bool on, uint32_t counter, const char *origin);
/** `C1 <version>[ <source>…]`; `sources` is an array of `count` NUL-terminated ids. */
uint16_t encodeConfig(char *buf, uint16_t cap, uint32_t version, const char (*sources)[kMaxIdLen + 1],
                      uint8_t count);
/** `T1 <online>` */
uint16_t encodeStatus(char *buf, uint16_t cap, bool online);
/** `G1 <kind> <profile> <firmware>` */
uint16_t encodeRegister(char *buf, uint16_t cap, const char *kind, const char *profile,
                        const char *firmware);

/** Register fields: `real|sim|host`, `[a-z0-9-]{1,16}`, `[0-9A-Za-z.+-]{1,12}`. */
bool isNodeKind(const char *s, uint16_t n);
bool isProfile(const char *s, uint16_t n);
bool isFirmware(const char *s, uint16_t n);

}  // namespace tf

#endif
