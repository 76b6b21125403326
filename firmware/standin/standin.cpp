// twinfleet-standin: the firmware core on a PC, joined to a broker through libmosquitto as a board
// would join it (clean session, keepalive 15 s, last will "T1 0" on <prefix>/status/<id>, QoS 0
// publishes). It proves that the board's code and the simulated nodes work together.
//
//   twinfleet-standin --id lamp-1 [--host 127.0.0.1] [--port 1883] [--prefix tf]
//                     [--sync-grace-ms 1500] [--username U --password P] [--kind host]
//                     [--profile uno-w5100] [--reconnect-ms 5000]
//
// stdin, one command a line: `press` (the button), `state` (print the core's state), `quit`.
// stdout, one event a line: `led 1` / `led 0` on every LED write, `ready` each time the node
// completes a sync, `state on=… led=… counter=… origin=… clock=… sources=a,b config=…`.
// stderr: drops (`drop <reason> <topic>`) and connection notes. EOF or `quit` ends the process
// without an MQTT DISCONNECT, like a board losing power, so the broker publishes the last will.
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "twinfleet_core.h"

namespace {

struct Options {
  const char *host = "127.0.0.1";
  int port = 1883;
  const char *id = nullptr;
  const char *prefix = "tf";
  const char *kind = "host";
  const char *profile = "uno-w5100";
  uint32_t syncGraceMs = tf::kDefaultSyncGraceMs;
  const char *username = nullptr;
  const char *password = nullptr;
  // The sketch's TF_RECONNECT_MS (twinfleet_node/config.h): a connect attempt at most this often.
  uint32_t reconnectMs = 5000;
};

struct StandIn {
  tf::NodeCore core;
  mosquitto *mosq = nullptr;
  bool sessionUp = false;
  timespec started{};
  const char *host = "";
  int port = 0;
  uint32_t reconnectMs = 0;
  // Why the last attempt to reach the broker failed ("" once connected): said once, not each second.
  char lastFailure[128] = "";
  // The connection of the current attempt got its CONNACK: a later loss is not a failure to reach.
  bool attemptConnected = false;
  const char *clientId = "";
  // When the last sessions were lost (ticks), for a client id another client keeps taking over.
  uint32_t lostAt[3] = {0, 0, 0};
  uint8_t lostNext = 0;
  uint8_t lostCount = 0;
  bool clashSaid = false;
  // The broker answered something (a SUBACK, a message) after this session's CONNACK; and of the
  // sessions lost (their slots as lostAt's), which were: a takeover closes a session the broker had
  // served, a broker closing each connection right after its CONNACK never serves one.
  bool served = false;
  bool lostServed[3] = {false, false, false};
};

// The sim's rule (docs/cli.md, "When the fleet's ids are in use already"): 3 sessions lost within
// 30 s, each won back at once, is another client with this client id: each connection takes the
// other's session over. Said once; the stand-in used to print connected/disconnected and nothing more.
// "Won back at once": an attempt that fails after a loss means the broker itself was away (killed,
// restarting), as the sim excuses the closes of a broker outage; it clears the count. Counting every
// loss made a broker restarted three times in 20 s a clash for every stand-in on it.
const uint32_t kClashWindowMs = 30000;

// How long the board's EthernetClient::connect() waits for the TCP handshake (Ethernet 2.0.2's
// default timeout, which PubSubClient does not change) before it closes the socket and returns false.
// The stand-in used libmosquitto's blocking connect: to a broker whose SYNs went unanswered (its host
// down, a cable out, a full listen queue) it stayed in connect() until Linux gave up, up to 127 s,
// reading no press and no command meanwhile, and was back 18-28 s after the path was (a board: at
// its next attempt, at most TF_RECONNECT_MS later).
const uint32_t kConnectTimeoutMs = 1000;

[[noreturn]] void usage(const char *why) {
  fprintf(stderr,
          "twinfleet-standin: %s\n"
          "usage: twinfleet-standin --id <node id> [--host 127.0.0.1] [--port 1883] [--prefix tf]\n"
          "                         [--sync-grace-ms 1500] [--username U --password P]\n"
          "                         [--kind host] [--profile uno-w5100] [--reconnect-ms 5000]\n"
          "example: echo press | twinfleet-standin --id lamp-1 --port 1883\n",
          why);
  exit(2);
}

long parseNumber(const char *flag, const char *s, long lo, long hi) {
  char *end = nullptr;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) {
    static char msg[128];
    snprintf(msg, sizeof msg, "%s must be an integer from %ld to %ld, got \"%s\"", flag, lo, hi, s);
    usage(msg);
  }
  return v;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) usage("runs the firmware core on this machine");
    if (i + 1 >= argc) usage("every flag takes a value");
    const char *v = argv[++i];
    if (strcmp(flag, "--host") == 0) o.host = v;
    else if (strcmp(flag, "--port") == 0) o.port = static_cast<int>(parseNumber(flag, v, 1, 65535));
    else if (strcmp(flag, "--id") == 0) o.id = v;
    else if (strcmp(flag, "--prefix") == 0) o.prefix = v;
    else if (strcmp(flag, "--kind") == 0) o.kind = v;
    else if (strcmp(flag, "--profile") == 0) o.profile = v;
    else if (strcmp(flag, "--sync-grace-ms") == 0)
      o.syncGraceMs = static_cast<uint32_t>(parseNumber(flag, v, 0, 3600000));
    else if (strcmp(flag, "--username") == 0) o.username = v;
    else if (strcmp(flag, "--password") == 0) o.password = v;
    else if (strcmp(flag, "--reconnect-ms") == 0)
      o.reconnectMs = static_cast<uint32_t>(parseNumber(flag, v, 100, 3600000));
    else {
      static char msg[128];
      snprintf(msg, sizeof msg, "unknown flag %s", flag);
      usage(msg);
    }
  }
  if (o.id == nullptr) usage("--id is required");
  return o;
}

// Milliseconds since start from the monotonic clock, as the board's millis() (wrapping at 2^32).
uint32_t ticks(const StandIn &s) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t ms = (now.tv_sec - s.started.tv_sec) * 1000LL + (now.tv_nsec - s.started.tv_nsec) / 1000000LL;
  return static_cast<uint32_t>(ms);
}

void printState(const tf::NodeCore &c) {
  printf("state on=%d led=%d counter=%u origin=%s clock=%u sources=", c.on() ? 1 : 0, c.led() ? 1 : 0,
         static_cast<unsigned>(c.counter()), c.origin(), static_cast<unsigned>(c.clock()));
  for (uint8_t i = 0; i < c.sourceCount(); i++) printf("%s%s", i ? "," : "", c.source(i));
  printf(" config=%u phase=%s\n", static_cast<unsigned>(c.configVersion()),
         c.phase() == tf::kSynced ? "synced" : c.phase() == tf::kSyncing ? "syncing" : "offline");
  fflush(stdout);
}

void onOutput(void *ctx, const tf::Output &o) {
  StandIn &s = *static_cast<StandIn *>(ctx);
  switch (o.type) {
    case tf::kOutSubscribe:
      mosquitto_subscribe(s.mosq, nullptr, o.topic, o.qos);
      break;
    case tf::kOutUnsubscribe:
      mosquitto_unsubscribe(s.mosq, nullptr, o.topic);
      break;
    case tf::kOutPublish:
      mosquitto_publish(s.mosq, nullptr, o.topic, o.payloadLen, o.payload, 0, o.retain);
      break;
    case tf::kOutLed:
      printf("led %d\n", o.on ? 1 : 0);
      fflush(stdout);
      break;
    case tf::kOutDrop:
      fprintf(stderr, "drop %s %s\n", tf::dropReasonName(o.reason), o.topic);
      break;
  }
}

// Runs one core input and prints `ready` when it completed a sync.
template <typename F>
void feed(StandIn &s, F input) {
  bool wasSynced = s.core.phase() == tf::kSynced;
  input();
  if (!wasSynced && s.core.phase() == tf::kSynced) {
    printf("ready\n");
    fflush(stdout);
  }
}

// An attempt to reach the broker failed, for the reason `why`: said once per reason, as the
// stand-in retries (an unreachable broker used to leave it silent).
void connectFailed(StandIn &s, const char *why) {
  // The broker was not there to take the session back: the sessions lost so far were its going away,
  // not another client taking them over.
  s.lostCount = 0;
  if (strcmp(why, s.lastFailure) == 0) return;
  snprintf(s.lastFailure, sizeof s.lastFailure, "%s", why);
  fprintf(stderr, "cannot reach the broker at %s:%d: %s; retrying every %g s\n", s.host, s.port, why,
          s.reconnectMs / 1000.0);
}

// The same for `rc` from mosquitto_connect_async, _reconnect_async or _loop.
void connectFailed(StandIn &s, int rc) {
  // libmosquitto closes a connection whose CONNACK has not come within the keepalive (15 s), as
  // PubSubClient gives up after MQTT_SOCKET_TIMEOUT (15 s); its own text for that is "Unknown error".
  if (rc == MOSQ_ERR_KEEPALIVE) {
    connectFailed(s, "connected, but no CONNACK within 15 s");
    return;
  }
  char why[sizeof s.lastFailure];
  snprintf(why, sizeof why, "%s", rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
  size_t n = strlen(why);
  if (n > 0 && why[n - 1] == '.') why[n - 1] = '\0';  // libmosquitto's "Lookup error."
  connectFailed(s, why);
}

// The TCP connection of the attempt under way is established (before that the socket has no peer).
bool tcpEstablished(mosquitto *mosq) {
  int fd = mosquitto_socket(mosq);
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  return fd >= 0 && getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &len) == 0;
}

void onConnect(mosquitto *, void *ctx, int rc) {
  StandIn &s = *static_cast<StandIn *>(ctx);
  if (rc != 0) {
    s.lostCount = 0;  // not won back: a refusal is no takeover
    fprintf(stderr, "connect refused: %s\n", mosquitto_connack_string(rc));
    return;
  }
  s.lastFailure[0] = '\0';
  s.attemptConnected = true;
  s.sessionUp = true;
  s.served = false;
  fprintf(stderr, "connected\n");
  feed(s, [&] { s.core.connected(ticks(s)); });
}

void onDisconnect(mosquitto *, void *ctx, int) {
  StandIn &s = *static_cast<StandIn *>(ctx);
  if (!s.sessionUp) return;
  s.sessionUp = false;
  fprintf(stderr, "disconnected\n");
  s.core.disconnected();
  uint32_t now = ticks(s);
  s.lostAt[s.lostNext] = now;
  s.lostServed[s.lostNext] = s.served;
  s.lostNext = static_cast<uint8_t>((s.lostNext + 1) % 3);
  if (s.lostCount < 3) s.lostCount++;
  uint32_t oldest = s.lostAt[s.lostNext];  // with 3 held, the next slot holds the oldest
  if (!s.clashSaid && s.lostCount >= 3 && now - oldest <= kClashWindowMs) {
    s.clashSaid = true;
    if (s.lostServed[0] || s.lostServed[1] || s.lostServed[2])
      fprintf(stderr,
              "the broker closed this session 3 times in %.1f s: another client is connecting with client id %s "
              "(a simulated node or a board with the same id?), and each connection takes the other's over\n",
              (now - oldest) / 1000.0, s.clientId);
    else
      // None served: the broker's own doing, or a takeover as fast as a simulated node's; not told as either.
      fprintf(stderr,
              "the broker closed this session 3 times in %.1f s, each right after accepting it (CONNACK), before "
              "answering anything: the broker, or something between, ends it itself (its rules or limits, a "
              "fault: see its log), or another client with client id %s takes it over that fast\n",
              (now - oldest) / 1000.0, s.clientId);
  }
}

// A SUBACK: the broker answered this session after its CONNACK.
void onSubscribe(mosquitto *, void *ctx, int, int, const int *) { static_cast<StandIn *>(ctx)->served = true; }

void onMessage(mosquitto *, void *ctx, const mosquitto_message *m) {
  StandIn &s = *static_cast<StandIn *>(ctx);
  s.served = true;
  uint16_t len = m->payloadlen > 0xFFFF ? 0xFFFF : static_cast<uint16_t>(m->payloadlen);
  uint8_t qos = m->qos > 0 ? 1 : 0;
  feed(s, [&] { s.core.message(m->topic, static_cast<const uint8_t *>(m->payload), len, qos, ticks(s)); });
}

}  // namespace

int main(int argc, char **argv) {
  Options opt = parse(argc, argv);
  static StandIn s;
  clock_gettime(CLOCK_MONOTONIC, &s.started);
  tf::NodeConfig config = {opt.id, opt.prefix, opt.kind, opt.profile, TF_FIRMWARE_VERSION, opt.syncGraceMs};
  switch (s.core.begin(config, onOutput, &s)) {
    case tf::kConfigOk:
      break;
    case tf::kConfigBadId:
      usage("--id must be 1-23 characters of A-Z a-z 0-9 _ -");
    case tf::kConfigBadPrefix:
      usage("--prefix must be 1-12 characters of A-Z a-z 0-9 _ -");
    case tf::kConfigBadKind:
      usage("--kind must be real, sim or host");
    case tf::kConfigBadProfile:
      usage("--profile must be 1-16 characters of a-z 0-9 -");
    case tf::kConfigBadFirmware:
      usage("the built-in firmware version is malformed");
  }

  char clientId[tf::kMaxPrefixLen + 1 + tf::kMaxIdLen + 1];
  char willTopic[tf::kMaxTopicLen + 1];
  snprintf(clientId, sizeof clientId, "%s-%s", opt.prefix, opt.id);
  snprintf(willTopic, sizeof willTopic, "%s/status/%s", opt.prefix, opt.id);

  mosquitto_lib_init();
  s.mosq = mosquitto_new(clientId, true, &s);
  if (s.mosq == nullptr) {
    fprintf(stderr, "mosquitto_new failed\n");
    return 1;
  }
  mosquitto_will_set(s.mosq, willTopic, 4, "T1 0", 1, true);
  if (opt.username != nullptr) mosquitto_username_pw_set(s.mosq, opt.username, opt.password);
  mosquitto_connect_callback_set(s.mosq, onConnect);
  mosquitto_disconnect_callback_set(s.mosq, onDisconnect);
  mosquitto_message_callback_set(s.mosq, onMessage);
  mosquitto_subscribe_callback_set(s.mosq, onSubscribe);
  // Resend nothing of our own on reconnect: a board's clean session starts from scratch.
  mosquitto_reconnect_delay_set(s.mosq, 1, 2, false);

  s.core.boot();
  s.host = opt.host;
  s.port = opt.port;
  s.clientId = clientId;
  s.reconnectMs = opt.reconnectMs;
  // Non-blocking, so that the loop goes on reading presses and commands while the handshake waits.
  int rc = mosquitto_connect_async(s.mosq, opt.host, opt.port, 15);
  bool connecting = rc == MOSQ_ERR_SUCCESS;
  if (!connecting) connectFailed(s, rc);
  // As the sketch's keepSession(): an attempt at most every reconnectMs, counted from the last
  // attempt — so a session lost after a longer life is tried again at once, as a board does. (The
  // stand-in used to wait a second from the loss, and retried every second: faster than the board
  // when the broker stayed away, slower when only the session was lost.)
  uint32_t lastAttempt = ticks(s);
  char line[256];
  size_t lineLen = 0;
  for (;;) {
    if (connecting) {
      rc = mosquitto_loop(s.mosq, 10, 1);
      if (rc != MOSQ_ERR_SUCCESS) {
        if (!s.attemptConnected) connectFailed(s, rc);
        onDisconnect(s.mosq, &s, rc);
        connecting = false;
      } else if (!s.attemptConnected && ticks(s) - lastAttempt >= kConnectTimeoutMs &&
                 !tcpEstablished(s.mosq)) {
        // As EthernetClient::connect(): no handshake within its timeout, the socket is closed (a
        // shutdown aborts the kernel's SYN retries; the next attempt closes the descriptor). Once
        // the handshake is done, libmosquitto waits for the CONNACK up to the keepalive (15 s),
        // as PubSubClient waits MQTT_SOCKET_TIMEOUT (15 s).
        shutdown(mosquitto_socket(s.mosq), SHUT_RDWR);
        connectFailed(s, strerror(ETIMEDOUT));
        connecting = false;
      }
    } else {
      if (ticks(s) - lastAttempt < s.reconnectMs) poll(nullptr, 0, 10);
      if (ticks(s) - lastAttempt >= s.reconnectMs) {
        lastAttempt = ticks(s);
        s.attemptConnected = false;
        rc = mosquitto_reconnect_async(s.mosq);
        connecting = rc == MOSQ_ERR_SUCCESS;
        if (!connecting) connectFailed(s, rc);
      }
    }
    feed(s, [&] { s.core.tick(ticks(s)); });

    pollfd in = {0, POLLIN, 0};
    while (poll(&in, 1, 0) > 0) {
      char c;
      ssize_t n = read(0, &c, 1);
      if (n <= 0) return 0;  // EOF: power off, no DISCONNECT, the broker sends the will
      if (c != '\n') {
        if (lineLen + 1 < sizeof line) line[lineLen++] = c;
        continue;
      }
      line[lineLen] = '\0';
      lineLen = 0;
      if (strcmp(line, "press") == 0) feed(s, [&] { s.core.press(ticks(s)); });
      else if (strcmp(line, "state") == 0) printState(s.core);
      else if (strcmp(line, "quit") == 0) return 0;
      else if (line[0] != '\0') fprintf(stderr, "unknown command \"%s\" (press, state, quit)\n", line);
    }
  }
}
