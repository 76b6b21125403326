/*
 * The node state machine. Each method follows its namesake in node/core.ts line by line, so that a
 * disagreement on a vector points at one place; comments here only note what C changes.
 */
#include "tf_node.h"

#include <string.h>

namespace tf {

namespace {

uint32_t nextCounter(uint32_t clock) { return clock >= kMaxCounter ? kMaxCounter : clock + 1; }

/** strcmp of a NUL-terminated id against a slice: <0, 0, >0. */
int compareIds(Slice a, const char *b) {
  size_t bn = strlen(b);
  size_t n = a.n < bn ? a.n : bn;
  int c = memcmp(a.p, b, n);
  if (c != 0) return c;
  return a.n == bn ? 0 : (a.n < bn ? -1 : 1);
}

void copySlice(char *dst, Slice s) {
  memcpy(dst, s.p, s.n);
  dst[s.n] = '\0';
}

void ignore(void *, const Output &) {}

}  // namespace

NodeCore::NodeCore()
    : out_(ignore),
      ctx_(0),
      kind_(""),
      profile_(""),
      firmware_(""),
      syncGraceMs_(kDefaultSyncGraceMs),
      on_(false),
      counter_(0),
      clock_(0),
      sourceCount_(0),
      configVersion_(0),
      phase_(kOffline),
      connectedAt_(0),
      gotConfig_(false),
      gotReport_(false),
      reportRetained_(false),
      configRetained_(false),
      heldAny_(false),
      heldOdd_(false) {
  id_[0] = '\0';
  prefix_[0] = '\0';
  origin_[0] = '\0';
  topic_[0] = '\0';
  payload_[0] = '\0';
}

ConfigError NodeCore::begin(const NodeConfig &c, OutputFn out, void *ctx) {
  if (c.id == 0 || !isNodeId(c.id, (uint16_t)strlen(c.id))) return kConfigBadId;
  if (c.prefix == 0 || !isPrefix(c.prefix, (uint16_t)strlen(c.prefix))) return kConfigBadPrefix;
  if (c.kind == 0 || !isNodeKind(c.kind, (uint16_t)strlen(c.kind))) return kConfigBadKind;
  if (c.profile == 0 || !isProfile(c.profile, (uint16_t)strlen(c.profile))) return kConfigBadProfile;
  if (c.firmware == 0 || !isFirmware(c.firmware, (uint16_t)strlen(c.firmware))) return kConfigBadFirmware;
  strcpy(id_, c.id);
  strcpy(prefix_, c.prefix);
  strcpy(origin_, c.id);
  kind_ = c.kind;
  profile_ = c.profile;
  firmware_ = c.firmware;
  syncGraceMs_ = c.syncGraceMs;
  out_ = out != 0 ? out : ignore;
  ctx_ = ctx;
  return kConfigOk;
}

void NodeCore::boot() {
  on_ = false;
  counter_ = 0;
  strcpy(origin_, id_);
  clock_ = 0;
  sourceCount_ = 0;
  configVersion_ = 0;
  phase_ = kOffline;
  heldAny_ = false;
  heldOdd_ = false;
  reportRetained_ = false;
  emitLed();
}

void NodeCore::connected(uint32_t now) {
  phase_ = kSyncing;
  connectedAt_ = now;
  gotConfig_ = false;
  gotReport_ = false;
  reportRetained_ = false;
  configRetained_ = false;
  subscribe(kConfig, id_, 1);
  subscribe(kReport, id_, 1);
}

void NodeCore::disconnected() { phase_ = kOffline; }

void NodeCore::tick(uint32_t now) { completeSyncIfDue(now); }

void NodeCore::press(uint32_t now) {
  completeSyncIfDue(now);
  if (phase_ == kSynced) {
    localEvent(!on_, clock_);
    return;
  }
  heldAny_ = true;
  heldOdd_ = !heldOdd_;
  emitLed();
}

void NodeCore::completeSyncIfDue(uint32_t now) {
  // Unsigned subtraction keeps this right across the 49-day wrap of millis().
  if (phase_ == kSyncing && now - connectedAt_ >= syncGraceMs_) completeSync();
}

void NodeCore::completeSync() {
  phase_ = kSynced;
  subscribe(kState, id_, 1);
  subscribe(kSubscribe, id_, 1);
  subscribe(kUnsubscribe, id_, 1);
  subscribe(kQuery, id_, 0);
  for (uint8_t i = 0; i < sourceCount_; i++) subscribe(kReport, sources_[i], 0);
  publishStatus();
  if (!configRetained_ && configVersion_ > 0) publishConfig();
  publishRegister();
  if (heldAny_) {
    bool toggle = heldOdd_;
    heldAny_ = false;
    heldOdd_ = false;
    localEvent(toggle ? !on_ : on_, clock_);
  } else if (!reportRetained_) {
    publishReport();
  }
}

void NodeCore::localEvent(bool on, uint32_t seen) {
  clock_ = nextCounter(clock_ > seen ? clock_ : seen);
  counter_ = clock_;
  strcpy(origin_, id_);
  on_ = on;
  emitLed();
  publishReport();
}

void NodeCore::message(const char *topic, const uint8_t *payload, uint16_t len, uint8_t qos,
                       uint32_t now) {
  completeSyncIfDue(now);
  Decoded m;
  DropReason reason;
  if (!decode(prefix_, topic, payload, len, qos, m, reason)) {
    drop(reason, topic);
    return;
  }
  bool self = m.kind != kQuery && sliceEquals(m.node, id_);
  if ((m.kind == kReport || m.kind == kState || m.kind == kConfig) && m.counter > kCounterCeiling) {
    drop(kImplausibleCounter, topic);
    // On the node's own retained topic: put the broker's copy right.
    if (phase_ == kSynced && self && m.kind == kReport) publishReport();
    if (phase_ == kSynced && self && m.kind == kConfig && configVersion_ > 0) publishConfig();
    return;
  }
  if (m.kind == kReport && m.counter > clock_) clock_ = m.counter;
  switch (m.kind) {
    case kReport:
      if (self) {
        ownReport(m);
      } else if (findSource(m.node) >= 0) {
        sourceReport(m, topic);
      } else {
        drop(kNotFollowing, topic);
      }
      break;
    case kConfig:
      if (self) {
        ownConfig(m);
      } else {
        drop(kBadTopic, topic);
      }
      break;
    case kState:
      if (self) {
        localEvent(m.on, m.counter);
      } else {
        drop(kBadTopic, topic);
      }
      break;
    case kSubscribe:
      if (self) {
        follow(m.id, topic);
      } else {
        drop(kBadTopic, topic);
      }
      break;
    case kUnsubscribe:
      if (self) {
        unfollow(m.id);
      } else {
        drop(kBadTopic, topic);
      }
      break;
    case kQuery:
      publishRegister();
      publishReport();
      break;
    case kStatus:
    case kRegister:
      drop(kBadTopic, topic);  // for control servers, not nodes
      break;
  }
  if (phase_ == kSyncing && gotConfig_ && gotReport_) completeSync();
}

bool NodeCore::isNewer(uint32_t counter, Slice origin) const {
  if (counter != counter_) return counter > counter_;
  return compareIds(origin, origin_) > 0;
}

bool NodeCore::sameStamp(uint32_t counter, Slice origin) const {
  return counter == counter_ && compareIds(origin, origin_) == 0;
}

void NodeCore::adoptStamp(bool on, uint32_t counter, Slice origin) {
  on_ = on;
  counter_ = counter;
  copySlice(origin_, origin);
}

void NodeCore::ownReport(const Decoded &m) {
  if (phase_ == kSyncing) gotReport_ = true;
  if (isNewer(m.counter, m.id)) {
    adoptStamp(m.on, m.counter, m.id);
    reportRetained_ = true;
    emitLed();
  } else if (sameStamp(m.counter, m.id)) {
    reportRetained_ = true;
  } else if (phase_ == kSyncing) {
    // The retained report is out of date (a publish was lost with the last connection): the sync
    // publishes the node's own. Once synced, an older own report is a late echo of an earlier
    // publish (the broker already holds the newer one): republishing would answer every late echo
    // with another report.
    reportRetained_ = false;
  }
}

void NodeCore::sourceReport(const Decoded &m, const char *topic) {
  if (!isNewer(m.counter, m.id)) {
    drop(kStale, topic);
    return;
  }
  adoptStamp(m.on, m.counter, m.id);
  emitLed();
  publishReport();
}

void NodeCore::ownConfig(const Decoded &m) {
  if (phase_ == kSyncing) {
    gotConfig_ = true;
    configRetained_ = m.counter >= configVersion_;
  }
  if (m.counter > configVersion_) {
    configVersion_ = m.counter;
    if (phase_ == kSynced) {
      // Old and new lists are both needed for the diff, and there is no RAM for a second list:
      // the old one is still in sources_, the new one is read from the message (which the caller
      // keeps intact for the whole call), and sources_ is overwritten only afterwards.
      for (uint8_t i = 0; i < sourceCount_; i++) {
        bool kept = false;
        for (uint8_t j = 0; j < m.sourceCount && !kept; j++) kept = sliceEquals(m.sources[j], sources_[i]);
        if (!kept) unsubscribeReport(sources_[i]);
      }
      for (uint8_t j = 0; j < m.sourceCount; j++) {
        if (findSource(m.sources[j]) < 0) {
          encodeTopic(topic_, sizeof topic_, prefix_, kReport, m.sources[j]);
          Output o = {kOutSubscribe, topic_, 0, 0, 0, false, false, kBadTopic};
          emit(o);
        }
      }
    }
    for (uint8_t j = 0; j < m.sourceCount; j++) copySlice(sources_[j], m.sources[j]);
    sourceCount_ = m.sourceCount;
  }
}

void NodeCore::follow(Slice source, const char *topic) {
  if (sliceEquals(source, id_)) {
    drop(kSelfFollow, topic);
    return;
  }
  if (findSource(source) >= 0) {
    publishConfig();
    return;
  }
  if (sourceCount_ >= kMaxFollows) {
    drop(kFollowsFull, topic);
    return;
  }
  copySlice(sources_[sourceCount_], source);
  sourceCount_++;
  configVersion_ = nextCounter(configVersion_);
  subscribe(kReport, sources_[sourceCount_ - 1], 0);
  publishConfig();
}

void NodeCore::unfollow(Slice source) {
  int8_t at = findSource(source);
  if (at < 0) {
    publishConfig();
    return;
  }
  for (uint8_t i = (uint8_t)at; i + 1 < sourceCount_; i++) strcpy(sources_[i], sources_[i + 1]);
  sourceCount_--;
  configVersion_ = nextCounter(configVersion_);
  encodeTopic(topic_, sizeof topic_, prefix_, kReport, source);
  Output o = {kOutUnsubscribe, topic_, 0, 0, 0, false, false, kBadTopic};
  emit(o);
  publishConfig();
}

int8_t NodeCore::findSource(Slice s) const {
  for (uint8_t i = 0; i < sourceCount_; i++) {
    if (sliceEquals(s, sources_[i])) return (int8_t)i;
  }
  return -1;
}

void NodeCore::publishReport() {
  reportRetained_ = true;
  publish(kReport, encodeReport(payload_, sizeof payload_, on_, counter_, origin_), true);
}

void NodeCore::publishConfig() {
  publish(kConfig, encodeConfig(payload_, sizeof payload_, configVersion_, sources_, sourceCount_), true);
}

void NodeCore::publishStatus() { publish(kStatus, encodeStatus(payload_, sizeof payload_, true), true); }

void NodeCore::publishRegister() {
  publish(kRegister, encodeRegister(payload_, sizeof payload_, kind_, profile_, firmware_), false);
}

void NodeCore::publish(Kind kind, uint16_t payloadLen, bool retain) {
  encodeTopic(topic_, sizeof topic_, prefix_, kind, id_);
  Output o = {kOutPublish, topic_, payload_, payloadLen, 0, retain, false, kBadTopic};
  emit(o);
}

void NodeCore::subscribe(Kind kind, const char *node, uint8_t qos) {
  encodeTopic(topic_, sizeof topic_, prefix_, kind, node);
  Output o = {kOutSubscribe, topic_, 0, 0, qos, false, false, kBadTopic};
  emit(o);
}

void NodeCore::unsubscribeReport(const char *node) {
  encodeTopic(topic_, sizeof topic_, prefix_, kReport, node);
  Output o = {kOutUnsubscribe, topic_, 0, 0, 0, false, false, kBadTopic};
  emit(o);
}

void NodeCore::emitLed() {
  Output o = {kOutLed, 0, 0, 0, 0, false, led(), kBadTopic};
  emit(o);
}

void NodeCore::drop(DropReason reason, const char *topic) {
  Output o = {kOutDrop, topic, 0, 0, 0, false, false, reason};
  emit(o);
}

void NodeCore::emit(const Output &o) { out_(ctx_, o); }

}  // namespace tf
