// A seeded mutation fuzzer for the core's input side (built with ASan/UBSan): every conformance
// vector's steps, mutated — messages with bytes flipped, inserted, cut, spliced from other vectors,
// tokens swapped for edge values (counters at and past the ceiling, ids of 23 and 24 characters,
// topics and payloads past 256 bytes, NULs, spaces), steps dropped, repeated and reordered, the
// clock jumping and wrapping — checking after every step what a node must never do:
//  - a message the decoder rejects, or drops as implausible-counter, changes no state (§5.5);
//  - the state stays well-formed: origin and sources are node ids, sources distinct, not the node,
//    at most 8, the counter never above the clock;
//  - every publish is `<prefix>/<action>/<id>` with a payload that decodes as its kind and fits the
//    256-byte packet at QoS 1, every subscribe topic is one of the node's;
//  - no call takes more than a second (a loop that never ends).
//   fuzz_core <vectors dir> [--seed N] [--cases N] [--seconds N] [--case N: replay one, verbose]
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_rng.h"
#include "twinfleet_core.h"

using nlohmann::json;

namespace {

struct Step {
  std::string type, topic, payload;
  uint32_t at = 0;
  uint8_t qos = 0;
};
struct Vector {
  std::string id, prefix;
  uint32_t grace = 1500;
  std::vector<Step> steps;
};

std::vector<Vector> corpus;
std::vector<std::string> tokens;  // payload fields and topic levels seen in the vectors, and edge values

uint64_t dropCounts[tf::kImplausibleCounter + 1];  // messages by their first drop, over the run
uint64_t accepted;
using fuzz::below;
using fuzz::next;

void load(const std::string &dir) {
  std::vector<std::string> files;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") files.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  for (const std::string &f : files) {
    std::ifstream in(f);
    json doc = json::parse(in);
    for (const json &v : doc.at("vectors")) {
      Vector x;
      x.id = v.at("node").at("id");
      x.prefix = v.at("node").at("prefix");
      x.grace = v.at("node").at("syncGraceMs");
      for (const json &s : v.at("steps")) {
        Step st;
        st.type = s.at("in").at("type");
        st.at = s.at("at");
        if (st.type == "message") {
          st.topic = s.at("in").at("topic");
          st.payload = s.at("in").at("payload");
          st.qos = s.at("in").contains("qos") ? s.at("in").at("qos").get<uint8_t>() : 0;
          for (const std::string &t : {st.topic, st.payload}) {
            size_t a = 0;
            for (size_t i = 0; i <= t.size(); i++) {
              if (i == t.size() || t[i] == ' ' || t[i] == '/') {
                tokens.push_back(t.substr(a, i - a));
                a = i + 1;
              }
            }
          }
        }
        x.steps.push_back(st);
      }
      corpus.push_back(x);
    }
  }
  for (const char *t : {"0", "1", "4278190079", "4278190080", "4294967295", "4294967296", "01", "-1", "",
                        "abcdefghijklmnopqrstuvw", "abcdefghijklmnopqrstuvwx", "+", "#", "R1", "C1", "S1", "F1",
                        "U1", "Q1", "T1", "G1", "R2", "query", "report", "config"}) {
    tokens.push_back(t);
  }
}

std::string mutate(std::string s) {
  int rounds = 1 + static_cast<int>(below(4));
  for (int r = 0; r < rounds; r++) {
    uint32_t at = below(static_cast<uint32_t>(s.size()) + 1);
    switch (below(11)) {
      case 9:  // one more field, or several
        for (uint32_t k = 1 + below(3) * below(4); k > 0; k--) {
          s += " " + tokens[below(static_cast<uint32_t>(tokens.size()))];
        }
        break;
      case 10:  // a field repeated
        s.insert(at, " " + tokens[below(static_cast<uint32_t>(tokens.size()))]);
        break;
      case 0:
        if (!s.empty()) s[at % s.size()] = static_cast<char>(s[at % s.size()] ^ (1 << below(8)));
        break;
      case 1:
        s.insert(at, 1, static_cast<char>(below(256)));
        break;
      case 2:
        if (!s.empty()) s.erase(at % s.size(), 1 + below(4));
        break;
      case 3:
        s.insert(at, std::string(below(300), static_cast<char>("a 0/\0-"[below(6)])));
        break;
      case 4:
        s.resize(below(static_cast<uint32_t>(s.size()) + 1));
        break;
      default: {
        // Replace one field (between separators) by a token.
        size_t a = s.find_last_of(" /", at == 0 ? 0 : at - 1);
        a = a == std::string::npos || at == 0 ? 0 : a + 1;
        size_t b = s.find_first_of(" /", a);
        if (b == std::string::npos) b = s.size();
        s.replace(a, b - a, tokens[below(static_cast<uint32_t>(tokens.size()))]);
      }
    }
  }
  return s;
}

// A well-formed-looking payload for the topic's kind, with fields from the tokens: configs of 0-10
// sources (past 8 only by mutation otherwise), reports and commands with edge counters.
std::string synth(const std::string &topic, const std::string &self) {
  auto tok = [] { return tokens[below(static_cast<uint32_t>(tokens.size()))]; };
  uint32_t n = below(12);  // mostly distinct ids, now and then a repeat or the node itself
  auto id = [&] { return below(12) == 0 ? self : "n" + std::to_string(below(10) == 0 ? n : ++n); };
  if (topic.find("/config/") != std::string::npos) {
    std::string p = "C1 " + (below(2) ? tok() : std::to_string(below(100)));
    for (uint32_t k = below(11); k > 0; k--) p += " " + id();
    return p;
  }
  if (topic.find("/report/") != std::string::npos) return "R1 " + std::to_string(below(2)) + " " + tok() + " " + id();
  if (topic.find("/state/") != std::string::npos) return "S1 " + std::to_string(below(2)) + " " + tok();
  return std::string(below(2) ? "F1 " : "U1 ") + id();
}

// One case: a vector's steps, mutated; deterministic from (seed, case).
Vector makeCase(uint64_t seed, uint64_t n) {
  fuzz::start(seed, n);
  for (int i = 0; i < 4; i++) next();
  Vector v = corpus[below(static_cast<uint32_t>(corpus.size()))];
  std::vector<Step> out;
  uint32_t shift = below(4) == 0 ? 0xFFFFFFFFu - below(5000) : 0;  // across the wrap of millis()
  for (size_t i = 0; i < v.steps.size(); i++) {
    Step s = v.steps[i];
    uint32_t what = below(10);
    if (what == 0) continue;  // dropped
    if (what == 1) {          // a message from another vector
      const Vector &o = corpus[below(static_cast<uint32_t>(corpus.size()))];
      const Step &t = o.steps[below(static_cast<uint32_t>(o.steps.size()))];
      if (t.type == "message") s = Step{t.type, t.topic, t.payload, s.at, t.qos};
    }
    if (s.type == "message" && below(4) == 0) {
      size_t slash = s.topic.find('/', 0);
      if (slash != std::string::npos && below(2)) {  // about the node, or about another
        s.topic = s.topic.substr(0, s.topic.find('/', slash + 1) + 1) + (below(2) ? v.id : "n" + std::to_string(below(12)));
      }
      s.payload = synth(s.topic, v.id);
    } else if (s.type == "message" && below(3) != 0) {
      if (below(2)) s.payload = mutate(s.payload);
      if (below(3) == 0) s.topic = mutate(s.topic);
      if (below(8) == 0) s.qos = static_cast<uint8_t>(below(3));
    }
    if (below(12) == 0) s.at += below(4000);
    s.at += shift;
    out.push_back(s);
    if (below(10) == 0) out.push_back(s);  // repeated
  }
  for (uint32_t k = below(3); k > 0 && out.size() > 1; k--) {
    std::swap(out[below(static_cast<uint32_t>(out.size()))], out[below(static_cast<uint32_t>(out.size()))]);
  }
  v.steps = out;
  return v;
}

struct Snapshot {
  bool on, led;
  uint32_t counter, clock, version;
  std::string origin, sources;
  tf::Phase phase;
  bool operator==(const Snapshot &o) const {
    return on == o.on && led == o.led && counter == o.counter && clock == o.clock && version == o.version &&
           origin == o.origin && sources == o.sources && phase == o.phase;
  }
};
Snapshot snap(const tf::NodeCore &c) {
  std::string s;
  for (uint8_t i = 0; i < c.sourceCount(); i++) s += std::string(c.source(i)) + ",";
  return {c.on(), c.led(), c.counter(), c.clock(), c.configVersion(), c.origin(), s, c.phase()};
}

struct Run {
  const tf::NodeCore *core = nullptr;
  std::vector<std::string> problems;
  std::vector<tf::DropReason> drops;
  bool verbose = false;
};

void onOutput(void *ctx, const tf::Output &o) {
  Run &r = *static_cast<Run *>(ctx);
  const std::string prefix = r.core->prefix();
  if (r.verbose && o.type != tf::kOutDrop) std::printf("    out %d %s %s\n", o.type, o.topic ? o.topic : "", o.payload ? o.payload : "");
  if (o.type == tf::kOutDrop) {
    if (r.verbose) std::printf("    drop %s\n", tf::dropReasonName(o.reason));
    r.drops.push_back(o.reason);
  } else if (o.type == tf::kOutSubscribe || o.type == tf::kOutUnsubscribe) {
    std::string t = o.topic;
    if (t.size() > tf::kMaxTopicLen || t.compare(0, prefix.size() + 1, prefix + "/") != 0) {
      r.problems.push_back("subscribe/unsubscribe to a topic not the node's: " + t);
    }
  } else if (o.type == tf::kOutPublish) {
    tf::Decoded m;
    tf::DropReason why;
    if (o.payloadLen != strlen(o.payload)) r.problems.push_back(std::string("publish with a wrong length: ") + o.payload);
    if (!tf::decode(r.core->prefix(), o.topic, reinterpret_cast<const uint8_t *>(o.payload), o.payloadLen, 1, m, why) ||
        !tf::sliceEquals(m.node, r.core->id())) {
      r.problems.push_back(std::string("published what no node accepts: ") + o.topic + " \"" + o.payload + "\"");
    }
  }
}

// Runs one case; returns its problems (empty: fine).
std::vector<std::string> runCase(const Vector &v, bool verbose, uint64_t &messages) {
  Run r;
  r.verbose = verbose;
  tf::NodeCore core;
  r.core = &core;
  tf::NodeConfig config = {v.id.c_str(), v.prefix.c_str(), "real", "uno-w5100", TF_FIRMWARE_VERSION, v.grace};
  if (core.begin(config, onOutput, &r) != tf::kConfigOk) return {"config rejected"};
  for (size_t i = 0; i < v.steps.size(); i++) {
    const Step &s = v.steps[i];
    if (verbose) std::printf("  step %zu at %u: %s %s \"%s\" qos=%u\n", i, s.at, s.type.c_str(), s.topic.c_str(), s.payload.c_str(), s.qos);
    alarm(1);
    if (s.type == "boot") core.boot();
    else if (s.type == "connected") core.connected(s.at);
    else if (s.type == "disconnected") core.disconnected();
    else if (s.type == "press") core.press(s.at);
    else if (s.type == "tick") core.tick(s.at);
    else {
      messages++;
      core.tick(s.at);  // a due sync completes first, as message() would do it
      Snapshot before = snap(core);
      r.drops.clear();
      uint16_t len = static_cast<uint16_t>(std::min<size_t>(s.payload.size(), 0xFFFF));
      core.message(s.topic.c_str(), reinterpret_cast<const uint8_t *>(s.payload.data()), len, s.qos, s.at);
      if (r.drops.empty()) accepted++;
      else dropCounts[r.drops[0]]++;
      bool rejected = !r.drops.empty() && (r.drops[0] <= tf::kTooLong || r.drops[0] == tf::kImplausibleCounter);
      if (rejected && !(snap(core) == before)) {
        r.problems.push_back("step " + std::to_string(i) + ": state changed by a message dropped as " +
                             tf::dropReasonName(r.drops[0]));
      }
    }
    alarm(0);
    for (uint8_t k = 0; k < core.sourceCount(); k++) {
      const char *src = core.source(k);
      bool ok = tf::isNodeId(src, static_cast<uint16_t>(strlen(src))) && strcmp(src, core.id()) != 0;
      for (uint8_t j = 0; j < k; j++) ok = ok && strcmp(src, core.source(j)) != 0;
      if (!ok) r.problems.push_back("step " + std::to_string(i) + ": bad source list");
    }
    if (core.sourceCount() > tf::kMaxFollows || !tf::isNodeId(core.origin(), static_cast<uint16_t>(strlen(core.origin()))) ||
        core.counter() > core.clock()) {
      r.problems.push_back("step " + std::to_string(i) + ": state not well-formed");
    }
    if (!r.problems.empty()) break;
  }
  return r.problems;
}

void onAlarm(int) {
  static const char msg[] = "fuzz: a call into the core did not return within 1 s\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(3);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_core <vectors dir> [--seed N] [--cases N] [--seconds N] [--case N]\n");
    return 2;
  }
  uint64_t seed = 1, cases = 20000, only = UINT64_MAX;
  double seconds = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--seed") seed = std::stoull(argv[i + 1]);
    else if (f == "--cases") cases = std::stoull(argv[i + 1]);
    else if (f == "--seconds") seconds = std::stod(argv[i + 1]);
    else if (f == "--case") only = std::stoull(argv[i + 1]);
  }
  signal(SIGALRM, onAlarm);
  load(argv[1]);
  if (corpus.empty()) {
    std::fprintf(stderr, "no vectors in %s\n", argv[1]);
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  uint64_t messages = 0, n = 0;
  for (n = only == UINT64_MAX ? 0 : only; only == UINT64_MAX ? (seconds > 0 ? elapsed() < seconds : n < cases) : n == only; n++) {
    Vector v = makeCase(seed, n);
    std::vector<std::string> problems = runCase(v, only != UINT64_MAX, messages);
    if (!problems.empty()) {
      std::printf("FAIL seed %llu case %llu (replay: --seed %llu --case %llu): %s\n", (unsigned long long)seed,
                  (unsigned long long)n, (unsigned long long)seed, (unsigned long long)n, problems[0].c_str());
      return 1;
    }
  }
  std::printf("fuzz: seed %llu, %llu cases, %llu messages, %.1f s, no findings\n", (unsigned long long)seed,
              (unsigned long long)(only == UINT64_MAX ? n : 1), (unsigned long long)messages, elapsed());
  std::printf("  accepted %llu", (unsigned long long)accepted);
  for (int k = 0; k <= tf::kImplausibleCounter; k++) {
    std::printf(", %s %llu", tf::dropReasonName(static_cast<tf::DropReason>(k)), (unsigned long long)dropCounts[k]);
  }
  std::printf("\n");
  return 0;
}
