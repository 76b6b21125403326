/*
 * Drop reasons as text, for hosts (the stand-in, the tests). A translation unit of its own so that a
 * board build that never prints them does not link the strings into its SRAM.
 */
#include "tf_codec.h"

namespace tf {

const char *dropReasonName(DropReason r) {
  switch (r) {
    case kBadTopic:
      return "bad-topic";
    case kBadId:
      return "bad-id";
    case kBadPayload:
      return "bad-payload";
    case kWrongVersion:
      return "wrong-version";
    case kTooLong:
      return "too-long";
    case kSelfFollow:
      return "self-follow";
    case kFollowsFull:
      return "follows-full";
    case kNotFollowing:
      return "not-following";
    case kStale:
      return "stale";
    case kImplausibleCounter:
      return "implausible-counter";
  }
  return "?";
}

}  // namespace tf
