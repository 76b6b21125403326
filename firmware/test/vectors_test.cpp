// Runs every conformance vector in protocol/vectors/*.json through the C++ NodeCore: each step's
// outputs in order, then the final state. The JSON stays here; the core never sees it.
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "twinfleet_core.h"

using nlohmann::json;

namespace {

std::string describe(const tf::Output &o) {
  switch (o.type) {
    case tf::kOutSubscribe:
      return "subscribe " + std::string(o.topic) + " qos=" + std::to_string(o.qos);
    case tf::kOutUnsubscribe:
      return "unsubscribe " + std::string(o.topic);
    case tf::kOutPublish:
      if (std::string(o.payload).size() != o.payloadLen) return "publish with a wrong payloadLen";
      return "publish " + std::string(o.topic) + " \"" + o.payload + "\" retain=" + (o.retain ? "1" : "0");
    case tf::kOutLed:
      return std::string("led ") + (o.on ? "1" : "0");
    case tf::kOutDrop:
      return "drop " + std::string(tf::dropReasonName(o.reason)) + " " + o.topic;
  }
  return "?";
}

std::string describe(const json &o) {
  std::string t = o.at("type");
  if (t == "subscribe") return "subscribe " + o.at("topic").get<std::string>() + " qos=" + std::to_string(o.at("qos").get<int>());
  if (t == "unsubscribe") return "unsubscribe " + o.at("topic").get<std::string>();
  if (t == "publish")
    return "publish " + o.at("topic").get<std::string>() + " \"" + o.at("payload").get<std::string>() +
           "\" retain=" + (o.at("retain").get<bool>() ? "1" : "0");
  if (t == "led") return std::string("led ") + (o.at("on").get<bool>() ? "1" : "0");
  if (t == "drop") return "drop " + o.at("reason").get<std::string>() + " " + o.at("topic").get<std::string>();
  return "unknown output type " + t;
}

void collect(void *ctx, const tf::Output &o) { static_cast<std::vector<std::string> *>(ctx)->push_back(describe(o)); }

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += "\n      " + x;
  return s.empty() ? "\n      (nothing)" : s;
}

// Returns the failures of one vector (empty when it passes).
std::vector<std::string> run(const json &v) {
  std::vector<std::string> failures;
  const json &n = v.at("node");
  std::string id = n.at("id"), prefix = n.at("prefix"), kind = n.at("kind"), profile = n.at("profile"),
              firmware = n.at("firmware");
  tf::NodeConfig config = {id.c_str(), prefix.c_str(), kind.c_str(), profile.c_str(), firmware.c_str(),
                           n.at("syncGraceMs").get<uint32_t>()};
  std::vector<std::string> got;
  tf::NodeCore core;
  if (core.begin(config, collect, &got) != tf::kConfigOk) return {"the node config was rejected"};
  size_t stepNo = 0;
  for (const json &step : v.at("steps")) {
    got.clear();
    uint32_t at = step.at("at").get<uint32_t>();
    const json &in = step.at("in");
    std::string type = in.at("type");
    if (type == "boot") core.boot();
    else if (type == "connected") core.connected(at);
    else if (type == "disconnected") core.disconnected();
    else if (type == "press") core.press(at);
    else if (type == "tick") core.tick(at);
    else if (type == "message") {
      std::string topic = in.at("topic"), payload = in.at("payload");
      uint8_t qos = in.contains("qos") ? in.at("qos").get<uint8_t>() : 0;
      core.message(topic.c_str(), reinterpret_cast<const uint8_t *>(payload.data()),
                   static_cast<uint16_t>(std::min<size_t>(payload.size(), 0xFFFF)), qos, at);
    } else {
      failures.push_back("step " + std::to_string(stepNo) + ": unknown input " + type);
    }
    std::vector<std::string> want;
    for (const json &o : step.at("out")) want.push_back(describe(o));
    if (want != got) {
      failures.push_back("step " + std::to_string(stepNo) + " (at " + std::to_string(at) + ", " + in.dump() +
                         ")\n    expected:" + join(want) + "\n    got:" + join(got));
    }
    stepNo++;
  }
  const json &f = v.at("final");
  auto check = [&](const char *what, const std::string &want, const std::string &have) {
    if (want != have) failures.push_back(std::string("final ") + what + ": expected " + want + ", got " + have);
  };
  check("on", f.at("on").dump(), core.on() ? "true" : "false");
  check("led", f.at("led").dump(), core.led() ? "true" : "false");
  check("counter", f.at("counter").dump(), std::to_string(core.counter()));
  check("origin", f.at("origin").get<std::string>(), core.origin());
  check("clock", f.at("clock").dump(), std::to_string(core.clock()));
  check("configVersion", f.at("configVersion").dump(), std::to_string(core.configVersion()));
  std::string want, have;
  for (const json &s : f.at("sources")) want += s.get<std::string>() + ",";
  for (uint8_t i = 0; i < core.sourceCount(); i++) have += std::string(core.source(i)) + ",";
  check("sources", "[" + want + "]", "[" + have + "]");
  return failures;
}

}  // namespace

int main(int argc, char **argv) {
  std::string dir = argc > 1 ? argv[1] : "protocol/vectors";
  std::vector<std::string> files;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.substr(name.size() - 5) == ".json") files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no vector files in %s\n", dir.c_str());
    return 2;
  }
  int passed = 0, failed = 0;
  for (const std::string &file : files) {
    std::ifstream in(file);
    json doc = json::parse(in);
    for (const json &v : doc.at("vectors")) {
      std::vector<std::string> failures = run(v);
      std::string name = file.substr(file.rfind('/') + 1) + " " + v.at("name").get<std::string>();
      if (failures.empty()) {
        passed++;
        std::printf("ok   %s\n", name.c_str());
      } else {
        failed++;
        std::printf("FAIL %s\n", name.c_str());
        for (const auto &f : failures) std::printf("  %s\n", f.c_str());
      }
    }
  }
  std::printf("vectors: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
