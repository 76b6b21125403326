/**
 * `twinfleet broker` (run the embedded broker for real boards and tools),
 * `twinfleet broker hash-password` (make a password hash for the credentials file) and
 * `twinfleet broker backup` (a running broker's store written as a new one): their options and help;
 * what they run is loaded when they run (cli/commands/broker-run.ts, broker-backup-run.ts).
 */
import type { Command } from "commander";
import { addHttpOptions } from "../http-options.js";
import type { CliIO, RegisterCommand } from "../main.js";
import type { BrokerFlags } from "./broker-run.js";

export const registerBrokerCommand: RegisterCommand = (program: Command, io: CliIO) => {
  const command = program
    .command("broker")
    .description("run the embedded MQTT broker (Aedes) for real boards, simulated nodes and tools")
    .option("--host <addr>", "interface to listen on (default 0.0.0.0)")
    .option("--port <n>", "plain MQTT port; 0 picks a free one (default 1883)")
    .option("--ws-port <n>", "MQTT over WebSocket port (default off)")
    .option("--tls-port <n>", "MQTT over TLS port; needs --tls-key and --tls-cert")
    .option("--tls-key <file>", "TLS private key (PEM)")
    .option("--tls-cert <file>", "TLS certificate (PEM)")
    .option("--data <dir>", "keep sessions, queued QoS 1 and retained messages in LevelDB here")
    .option(
      "--will-grace <s>",
      "with --data: seconds the previous run's clients have to reconnect before their last wills are published (default 20)",
    )
    .option(
      "--redis <url>",
      "keep the store in Redis and share it, and every message, with the other brokers on it (docs/cluster.md)",
    )
    .option("--auth <file>", "credentials and access rules (JSON; see docs/broker.md)")
    .option("--max-packet-bytes <n>", "largest MQTT packet accepted (default 65536)")
    .option(
      "--max-queued-bytes <n>",
      "bytes that may wait for one slow client before it is cut (default 4194304)",
    )
    .option("--drain-timeout <ms>", "how long a client may take none of its waiting bytes (default 10000)")
    // Abuse limits (docs/broker.md "Limits"); defaults in broker/limit-options.ts.
    .option("--connect-timeout <ms>", "how long a connection may take to send its CONNECT (default 7000)")
    .option("--connection-rate <n>", "connections per second one address may open (default 500)")
    .option("--connection-burst <n>", "connections one address may open at once (default 10000)")
    .option("--max-pending <n>", "connections of one address not yet past CONNECT (default 2000)")
    .option(
      "--ipv6-prefix <bits>",
      "IPv6 prefix counted as one address by the limits and bans (default 64; 128: each address)",
    )
    .option("--login-failures <n>", "failed logins from one address that ban it (default 10)")
    .option("--user-login-failures <n>", "failed logins for one username that ban it (default 20)")
    .option("--login-window <ms>", "window the failed logins are counted in (default 60000)")
    .option("--ban-time <ms>", "first ban; doubles on each repeat (default 60000)")
    .option("--login-concurrency <n>", "password checks run at once (default 2)")
    .option("--max-subscriptions <n>", "subscriptions one client may hold (default 1000)")
    .option(
      "--max-inflight <n>",
      "QoS 2 messages one session may have awaiting PUBREL, across its connections (default 1000)",
    )
    .option(
      "--max-inbound-bytes <n>",
      "payload bytes of QoS 2 messages awaiting PUBREL, all sessions together (default 67108864)",
    )
    .option(
      "--publish-rate <n>",
      "messages per second one client may publish; past it its socket is read later, nothing dropped (default 1000)",
    )
    .option("--publish-burst <n>", "messages one client may publish at once (default 20000)")
    .option(
      "--publish-bytes-rate <n>",
      "bytes of messages per second one client may publish (default 4194304)",
    )
    .option("--max-queued-messages <n>", "messages a persistent session may hold (default 1000)")
    .option("--max-retained <n>", "topics with a retained message the broker keeps (default 1000000)")
    .option(
      "--max-retained-bytes <n>",
      "bytes of retained topics and payloads the broker keeps (default 268435456)",
    )
    .option(
      "--max-sessions <n>",
      "persistent sessions (clean session 0) holding subscriptions; a new one past it gets SUBACK 0x80 (default 100)",
    )
    .option(
      "--session-expiry <time>",
      "drop a persistent session away this long: seconds or 90m, 12h, 30d, 2w (default never)",
    )
    .option("--max-client-id-bytes <n>", "longest client id accepted; longer gets CONNACK 0x02 (default 256)")
    .option("--max-filters-per-subscribe <n>", "most topic filters in one SUBSCRIBE (default 64)")
    .option(
      "--exit-on-stdin-close",
      "stop when stdin closes: for a process that starts the broker with a pipe, so that it stops when that process dies, even by SIGKILL",
    )
    .option(
      "--deny-subscribe <filter>",
      "refuse (SUBACK 0x80) subscriptions under this topic filter, for everyone; repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    );
  const broker = addHttpOptions(command, {
    served: "serve /metrics (Prometheus) and /healthz here",
    token: "the bearer token /metrics needs beyond loopback (required there)",
  })
    .addHelpText(
      "after",
      `
Examples:
  twinfleet broker                                  mqtt://0.0.0.0:1883, in memory
  twinfleet broker --port 1883 --ws-port 8080 --data ./broker-data
  twinfleet broker --port 1884 --redis redis://127.0.0.1:6379   one of several brokers sharing Redis
  twinfleet broker --tls-port 8883 --tls-key key.pem --tls-cert cert.pem --auth credentials.json
  twinfleet broker --data ./broker-data --http 0.0.0.0:9100 --http-token-file token
                                                    /metrics for Prometheus, /healthz for a probe

Signals: SIGTERM or Ctrl-C stops it; SIGHUP reloads --auth, --tls-key and --tls-cert
(a bad file keeps what runs; docs/broker.md, "Reloading credentials and certificates").`,
    )
    .action(async (flags: BrokerFlags) => {
      const { runBroker } = await import("./broker-run.js");
      await runBroker(flags, program, io);
    });
  broker
    .command("hash-password")
    .description("read a password on stdin and print its hash for the credentials file")
    .action(async () => {
      const { runHashPassword } = await import("./broker-run.js");
      await runHashPassword(io, broker.opts());
    });
  broker
    .command("backup")
    .description(
      "take a backup of a running broker's --data store through its --http, as a new store at --out that `twinfleet broker --data` opens as it is",
    )
    // Parsed by `broker` itself, which has the same flags (commander takes a parent's flags after
    // its subcommand's name too): declared here for the help, read from either.
    .option("--http <addr>", "the running broker's --http: [HOST:]PORT or http://HOST:PORT (required)")
    .option("--http-token <token>", "the token the broker was started with (needed beyond loopback)")
    .option("--http-token-file <file>", "the same, from the first line of FILE (else TWINFLEET_HTTP_TOKEN)")
    .option("--out <dir>", "the directory to write, new or empty (required)")
    .option(
      "--idle-timeout <ms>",
      "how long the broker may send nothing before the backup is given up, nothing written (default 60000)",
    )
    .addHelpText(
      "after",
      `
Give it the --http address and token the broker was started with (--http, --http-token,
--http-token-file or TWINFLEET_HTTP_TOKEN). The broker reads one LevelDB snapshot while it serves;
--out is written beside itself and renamed into place once whole, so it is never half written.
A broker in memory or on Redis has no store to back up, and says so. A broker that sends nothing
for --idle-timeout (stopped, or cut off by the network) is given up, nothing written (exit 1).

Examples:
  twinfleet broker backup --http 127.0.0.1:9100 --out /backup/broker-$(date +%F-%H%M)
  twinfleet broker backup --http http://lab-pi:9100 --http-token-file token --out ./broker-copy`,
    )
    .action(
      async (flags: {
        out?: string;
        idleTimeout?: string;
        http?: string;
        httpToken?: string;
        httpTokenFile?: string;
      }) => {
        const { runBrokerBackup } = await import("./broker-backup-run.js");
        const { out, idleTimeout, ...http } = flags;
        const given = Object.fromEntries(Object.entries(http).filter(([, v]) => v !== undefined));
        const own = {
          ...(out === undefined ? {} : { out }),
          ...(idleTimeout === undefined ? {} : { idleTimeout }),
        };
        await runBrokerBackup(own, { ...broker.opts(), ...given }, io);
      },
    );
};
