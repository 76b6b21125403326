/*
 * Decoding and encoding of protocol v1 payloads. The check order mirrors protocol/codec.ts exactly:
 * size, prefix, action, topic id, printable, tag, arity, then the fields left to right.
 */
#include "tf_codec.h"

#include <string.h>

#include "tf_flash.h"

namespace tf {

namespace {

const uint8_t kActionWidth = 12;
// Indexed by Kind; the first seven are `<prefix>/<action>/<id>` topics.
const char kActions[8][kActionWidth] TF_FLASH = {
    "report", "config", "status", "register", "state", "subscribe", "unsubscribe", "query",
};
const char kTagLetters[8] TF_FLASH = {'R', 'C', 'T', 'G', 'S', 'F', 'U', 'Q'};
const char kNodeKinds[3][5] TF_FLASH = {"real", "sim", "host"};
const uint32_t kPowersOfTen[9] TF_FLASH = {1000000000UL, 100000000UL, 10000000UL, 1000000UL, 100000UL,
                                  10000UL,      1000UL,      100UL,      10UL};
// Fields kept by the tokenizer: a config's tag, version and 8 sources. More only ever means "too many".
const uint8_t kMaxFields = 2 + kMaxFollows;

bool flashEquals(const char *flash, const char *s, uint16_t n) {
  for (uint16_t i = 0; i < n; i++) {
    if (tf_flash_byte(flash + i) != s[i]) return false;
  }
  return tf_flash_byte(flash + n) == '\0';
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

/** `0|[1-9][0-9]{0,9}`, at most 4294967295. */
bool parseCounter(Slice s, uint32_t &out) {
  if (s.n == 0 || s.n > 10) return false;
  if (s.p[0] == '0' && s.n > 1) return false;
  uint32_t v = 0;
  for (uint8_t i = 0; i < s.n; i++) {
    char c = s.p[i];
    if (!isDigit(c)) return false;
    uint8_t d = (uint8_t)(c - '0');
    if (v > 429496729UL || (v == 429496729UL && d > 5)) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

bool parseValue(Slice s, bool &out) {
  if (s.n != 1) return false;
  if (s.p[0] == '1') {
    out = true;
    return true;
  }
  if (s.p[0] == '0') {
    out = false;
    return true;
  }
  return false;
}

bool sliceEq(Slice a, Slice b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }

/** `^[\x21-\x7e]+( [\x21-\x7e]+)*$` */
bool isPrintableFields(const char *s, uint16_t n) {
  if (n == 0 || s[0] == ' ' || s[n - 1] == ' ') return false;
  for (uint16_t i = 0; i < n; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c == ' ') {
      if (s[i - 1] == ' ') return false;
    } else if (c < 0x21 || c > 0x7e) {
      return false;
    }
  }
  return true;
}

bool fail(DropReason r, DropReason &reason) {
  reason = r;
  return false;
}

bool decodeTopic(const char *prefix, const char *topic, Decoded &out, DropReason &reason) {
  // Split on '/' as String.prototype.split does: count every level, keep the first three.
  Slice parts[3] = {{topic, 0}, {topic, 0}, {topic, 0}};
  uint16_t count = 1;
  uint16_t start = 0;
  for (uint16_t i = 0;; i++) {
    char c = topic[i];
    if (c == '/' || c == '\0') {
      if (count <= 3) {
        uint16_t n = (uint16_t)(i - start);
        parts[count - 1].p = topic + start;
        parts[count - 1].n = n > 255 ? 255 : (uint8_t)n;  // longer levels are wrong either way
      }
      if (c == '\0') break;
      count++;
      start = (uint16_t)(i + 1);
    }
  }
  size_t prefixLen = strlen(prefix);
  if (parts[0].n != prefixLen || memcmp(parts[0].p, prefix, prefixLen) != 0) {
    return fail(kBadTopic, reason);
  }
  if (count == 2 && flashEquals(kActions[kQuery], parts[1].p, parts[1].n)) {
    out.kind = kQuery;
    return true;
  }
  uint8_t k = 0;
  while (k < kQuery && !flashEquals(kActions[k], parts[1].p, parts[1].n)) k++;
  if (k == kQuery || count != 3) return fail(kBadTopic, reason);
  if (!isNodeId(parts[2].p, parts[2].n)) return fail(kBadId, reason);
  out.kind = (Kind)k;
  out.node = parts[2];
  return true;
}

}  // namespace

bool isIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || isDigit(c) || c == '_' || c == '-';
}

bool isNodeId(const char *s, uint16_t n) {
  if (n < 1 || n > kMaxIdLen) return false;
  for (uint16_t i = 0; i < n; i++) {
    if (!isIdChar(s[i])) return false;
  }
  return true;
}

bool isPrefix(const char *s, uint16_t n) {
  if (n < 1 || n > kMaxPrefixLen) return false;
  for (uint16_t i = 0; i < n; i++) {
    if (!isIdChar(s[i])) return false;
  }
  return true;
}

bool isNodeKind(const char *s, uint16_t n) {
  for (uint8_t i = 0; i < 3; i++) {
    if (flashEquals(kNodeKinds[i], s, n)) return true;
  }
  return false;
}

bool isProfile(const char *s, uint16_t n) {
  if (n < 1 || n > kMaxProfileLen) return false;
  for (uint16_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || isDigit(c) || c == '-')) return false;
  }
  return true;
}

bool isFirmware(const char *s, uint16_t n) {
  if (n < 1 || n > kMaxFirmwareLen) return false;
  for (uint16_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || isDigit(c) || c == '.' || c == '+' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

bool sliceEquals(Slice a, const char *s) { return strlen(s) == a.n && memcmp(a.p, s, a.n) == 0; }

uint16_t publishPacketBytes(uint16_t topicLen, uint16_t payloadLen, uint8_t qos) {
  uint32_t remaining = 2UL + topicLen + (qos > 0 ? 2 : 0) + payloadLen;
  uint8_t lengthBytes = 1;
  for (uint32_t n = remaining; n > 127; n /= 128) lengthBytes++;
  uint32_t total = 1 + lengthBytes + remaining;
  return total > 0xFFFF ? 0xFFFF : (uint16_t)total;
}

bool decode(const char *prefix, const char *topic, const uint8_t *payload, uint16_t len, uint8_t qos,
            Decoded &out, DropReason &reason) {
  size_t topicLen = strlen(topic);
  if (topicLen > kMaxPacketBytes || publishPacketBytes((uint16_t)topicLen, len, qos) > kMaxPacketBytes) {
    return fail(kTooLong, reason);
  }
  if (!decodeTopic(prefix, topic, out, reason)) return false;

  const char *text = (const char *)payload;
  if (!isPrintableFields(text, len)) return fail(kBadPayload, reason);
  Slice f[kMaxFields];
  uint8_t fields = 0;
  uint16_t start = 0;
  for (uint16_t i = 0; i <= len; i++) {
    if (i == len || text[i] == ' ') {
      if (fields < kMaxFields) {
        f[fields].p = text + start;
        f[fields].n = (uint8_t)(i - start);  // < 256: the packet size was checked
      }
      if (fields < 255) fields++;
      start = (uint16_t)(i + 1);
    }
  }

  char letter = tf_flash_byte(&kTagLetters[out.kind]);
  if (!(f[0].n == 2 && f[0].p[0] == letter && f[0].p[1] == '1')) {
    if (f[0].n == 2 && f[0].p[0] == letter && isDigit(f[0].p[1])) return fail(kWrongVersion, reason);
    return fail(kBadPayload, reason);
  }
  uint8_t args = (uint8_t)(fields - 1);
  switch (out.kind) {
    case kQuery:
      if (args != 0) return fail(kBadPayload, reason);
      return true;
    case kReport:
      if (args != 3 || !parseValue(f[1], out.on) || !parseCounter(f[2], out.counter)) {
        return fail(kBadPayload, reason);
      }
      if (!isNodeId(f[3].p, f[3].n)) return fail(kBadId, reason);
      out.id = f[3];
      return true;
    case kConfig: {
      if (args < 1 || args > 1 + kMaxFollows) return fail(kBadPayload, reason);
      uint8_t n = (uint8_t)(args - 1);
      for (uint8_t i = 0; i < n; i++) {
        if (!isNodeId(f[2 + i].p, f[2 + i].n)) return fail(kBadId, reason);
        out.sources[i] = f[2 + i];
      }
      for (uint8_t i = 0; i < n; i++) {
        for (uint8_t j = 0; j < i; j++) {
          if (sliceEq(out.sources[i], out.sources[j])) return fail(kBadPayload, reason);
        }
      }
      for (uint8_t i = 0; i < n; i++) {
        if (sliceEq(out.sources[i], out.node)) return fail(kBadPayload, reason);
      }
      if (!parseCounter(f[1], out.counter)) return fail(kBadPayload, reason);
      out.sourceCount = n;
      return true;
    }
    case kStatus:
      if (args != 1 || !parseValue(f[1], out.on)) return fail(kBadPayload, reason);
      return true;
    case kRegister:
      if (args != 3 || !isNodeKind(f[1].p, f[1].n) || !isProfile(f[2].p, f[2].n) ||
          !isFirmware(f[3].p, f[3].n)) {
        return fail(kBadPayload, reason);
      }
      return true;
    case kState:
      if (args != 2 || !parseValue(f[1], out.on) || !parseCounter(f[2], out.counter)) {
        return fail(kBadPayload, reason);
      }
      return true;
    case kSubscribe:
    case kUnsubscribe:
      if (args != 1) return fail(kBadPayload, reason);
      if (!isNodeId(f[1].p, f[1].n)) return fail(kBadId, reason);
      out.id = f[1];
      return true;
  }
  return fail(kBadTopic, reason);
}

Writer &Writer::ch(char c) {
  if (len_ + 1 < cap_) {
    buf_[len_++] = c;
    buf_[len_] = '\0';
  } else {
    ok_ = false;
  }
  return *this;
}

Writer &Writer::str(const char *s) {
  while (*s) ch(*s++);
  return *this;
}

Writer &Writer::slice(Slice s) {
  for (uint8_t i = 0; i < s.n; i++) ch(s.p[i]);
  return *this;
}

Writer &Writer::action(Kind k) {
  for (const char *p = kActions[k]; tf_flash_byte(p) != '\0'; p++) ch(tf_flash_byte(p));
  return *this;
}

Writer &Writer::u32(uint32_t v) {
  // Repeated subtraction instead of / and %: the AVR has no divider, and libgcc's 32-bit division
  // costs ~700 cycles a digit against ~60 for this.
  bool started = false;
  for (uint8_t i = 0; i < 9; i++) {
    uint32_t p = tf_flash_u32(&kPowersOfTen[i]);
    char d = '0';
    while (v >= p) {
      v -= p;
      d++;
    }
    if (d != '0' || started) {
      ch(d);
      started = true;
    }
  }
  return ch((char)('0' + v));
}

uint16_t encodeTopic(char *buf, uint16_t cap, const char *prefix, Kind kind, const char *node) {
  Writer w(buf, cap);
  w.str(prefix).ch('/').action(kind);
  if (kind != kQuery) w.ch('/').str(node);
  return w.length();
}

uint16_t encodeTopic(char *buf, uint16_t cap, const char *prefix, Kind kind, Slice node) {
  Writer w(buf, cap);
  w.str(prefix).ch('/').action(kind).ch('/').slice(node);
  return w.length();
}

uint16_t encodeReport(char *buf, uint16_t cap, bool on, uint32_t counter, const char *origin) {
  Writer w(buf, cap);
  w.ch('R').ch('1').ch(' ').ch(on ? '1' : '0').ch(' ').u32(counter).ch(' ').str(origin);
  return w.length();
}

uint16_t encodeConfig(char *buf, uint16_t cap, uint32_t version, const char (*sources)[kMaxIdLen + 1],
                      uint8_t count) {
  Writer w(buf, cap);
  w.ch('C').ch('1').ch(' ').u32(version);
  for (uint8_t i = 0; i < count; i++) w.ch(' ').str(sources[i]);
  return w.length();
}

uint16_t encodeStatus(char *buf, uint16_t cap, bool online) {
  Writer w(buf, cap);
  w.ch('T').ch('1').ch(' ').ch(online ? '1' : '0');
  return w.length();
}

uint16_t encodeRegister(char *buf, uint16_t cap, const char *kind, const char *profile,
                        const char *firmware) {
  Writer w(buf, cap);
  w.ch('G').ch('1').ch(' ').str(kind).ch(' ').str(profile).ch(' ').str(firmware);
  return w.length();
}

}  // namespace tf
