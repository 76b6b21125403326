/**
 * A standalone broker's `/metrics` (`twinfleet broker --http`): Prometheus text from prom-client on a
 * Registry of its own, names prefixed `twinfleet_broker_` (process metrics `twinfleet_`, as
 * web/metrics.ts has them, but the GC histogram: see PROCESS_METRICS_LEFT_OUT; web/process-metrics.ts;
 * and its HTTP server's connections, `twinfleet_web_connections*`, web/connection-metrics.ts). Everything is read from the broker's figures (broker/figures.ts) at scrape
 * time: its counts are plain numbers the broker increments, so a scrape costs the broker's publish
 * path nothing. Every metric is described in docs/metrics.md, "The broker's own".
 */
import { Counter, Gauge, Registry } from "prom-client";
import { type BrokerFigures, CUT_REASONS, LISTENER_KINDS, REFUSAL_REASONS } from "../broker/index.js";
import type { ConnectionCounts } from "./connection-limits.js";
import { connectionMetrics } from "./connection-metrics.js";
import { processMetrics } from "./process-metrics.js";
import { readGauge } from "./read-gauge.js";

const QOS = ["0", "1", "2"] as const;

/**
 * prom-client's default collectors left out here: `gc` keeps a PerformanceObserver on every garbage
 * collection, all the time, and a broker under a flood collects garbage all the time. With it the
 * broker spent 13 % more CPU per message than without `--http` (docs/benchmarks.md, broker-flood).
 */
export const PROCESS_METRICS_LEFT_OUT: readonly string[] = ["gc"];

export class BrokerMetrics {
  readonly registry = new Registry();

  /** `connections`: what its HTTP server's connection cap did (web/connection-limits.ts), where it has one. */
  constructor(figures: BrokerFigures, connections?: ConnectionCounts) {
    const r = this.registry;
    const p = "twinfleet_broker_";
    processMetrics(r, "twinfleet_", PROCESS_METRICS_LEFT_OUT);
    // Its /metrics server's connections, under the names the twins' web server has them.
    if (connections) connectionMetrics(r, "twinfleet_", connections);
    const { tally } = figures;
    /** A counter whose totals by label are read from the broker when scraped. */
    const counter = (name: string, help: string, label: string, read: () => Iterable<[string, number]>) =>
      new Counter({
        name: p + name,
        help,
        labelNames: [label],
        registers: [r],
        collect() {
          this.reset();
          for (const [value, n] of read()) this.inc({ [label]: value }, n);
        },
      });
    const plain = (name: string, help: string, read: () => number) =>
      new Counter({
        name: p + name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const gauge = (name: string, help: string, read: () => number) => readGauge(r, p + name, help, read);
    new Gauge({
      name: `${p}clients_connected`,
      help: "Clients past CONNECT now, by the listener they came in on (mqtt, tls, ws, in-memory)",
      labelNames: ["listener"],
      registers: [r],
      collect() {
        for (const [listener, n] of Object.entries(figures.clientsNow())) this.set({ listener }, n);
      },
    });
    counter(
      "connections_accepted_total",
      "Connections accepted (past the connection rate, pending and ban checks), by listener",
      "listener",
      () => LISTENER_KINDS.map((k) => [k, tally.accepted[k]]),
    );
    counter(
      "connections_refused_total",
      "Connections refused before they became clients, by reason",
      "reason",
      () => REFUSAL_REASONS.map((k) => [k, tally.refused[k]]),
    );
    counter("connections_cut_total", "Connections the broker cut, by reason", "reason", () =>
      CUT_REASONS.map((k) => [k, tally.cut[k]]),
    );
    plain(
      "takeovers_repeated_total",
      "Session takeovers of a client id taken over already within 30 s: two live clients using one id (a first takeover is most often a device back before its old connection was noticed gone)",
      () => tally.takeoversRepeated,
    );
    plain(
      "retained_refused_total",
      "Retained messages on new topics delivered but not kept: the retained store was at --max-retained or --max-retained-bytes",
      () => tally.retainedRefused,
    );
    plain(
      "sessions_refused_total",
      "SUBSCRIBEs refused (0x80) for starting a persistent session past --max-sessions",
      () => tally.sessionsRefused,
    );
    plain(
      "sessions_expired_total",
      "Persistent sessions dropped for being away longer than --session-expiry",
      () => tally.sessionsExpired,
    );
    plain(
      "publishes_paced_total",
      "PUBLISH packets that came past their client's --publish-rate, --publish-burst or --publish-bytes-rate and were read later (held, none dropped)",
      () => tally.publishesPaced,
    );
    plain(
      "publish_holds_total",
      "Times a client's socket stopped being read for publishing past its budget",
      () => tally.publishHolds,
    );
    gauge(
      "clients_paced",
      "Clients whose socket is not read now for publishing past their budget",
      () => tally.clientsPaced,
    );
    counter(
      "config_reloads_total",
      "Reloads of --auth and the TLS key and certificate (SIGHUP), by result: ok, or failed (nothing changed)",
      "result",
      () => [
        ["ok", tally.reloads.ok],
        ["failed", tally.reloads.failed],
      ],
    );
    gauge(
      "config_last_reload_successful",
      "1 if the last reload (SIGHUP) took, or none was asked for; 0 if it failed and the files on disk are not what the broker runs",
      () => (tally.lastReloadOk ? 1 : 0),
    );
    if (tally.certificateNotAfter !== undefined)
      gauge(
        "tls_certificate_expiry_timestamp_seconds",
        "When the TLS certificate new connections are given stops being valid (Unix time): a renewed certificate not reloaded shows here",
        () => (tally.certificateNotAfter ?? 0) / 1000,
      );
    counter("messages_received_total", "PUBLISH packets read from clients, by QoS", "qos", () =>
      QOS.map((q, i) => [q, tally.traffic.inByQos[i] ?? 0]),
    );
    counter(
      "messages_sent_total",
      "PUBLISH packets written to clients (deliveries, retained and queued ones included), by QoS",
      "qos",
      () => QOS.map((q, i) => [q, tally.traffic.outByQos[i] ?? 0]),
    );
    plain("received_bytes_total", "Bytes read from clients' connections", () => tally.traffic.bytesIn);
    plain("sent_bytes_total", "Bytes written to clients' connections", () => tally.traffic.bytesOut);
    gauge("subscriptions", "Subscriptions the connected clients hold now", () => figures.subscriptions());
    if (figures.retained() !== undefined)
      new Gauge({
        name: `${p}retained_messages`,
        help: "Retained messages the broker holds now",
        registers: [r],
        collect() {
          this.set(figures.retained() ?? 0);
        },
      });
    new Gauge({
      name: `${p}persistent_sessions`,
      help: "Persistent sessions (clean session 0) holding subscriptions, connected or away: what --max-sessions counts",
      registers: [r],
      async collect() {
        // A store that does not answer (store_up says so) keeps the last count rather than failing the scrape.
        const n = await figures.persistentSessions().catch(() => undefined);
        if (n !== undefined) this.set(n);
      },
    });
    gauge("max_sessions", "The cap on persistent sessions (--max-sessions)", () => figures.maxSessions);
    const { sessionQueues: queues } = figures;
    gauge(
      "queued_messages",
      "QoS 1/2 messages held for persistent sessions now: sent and not yet acknowledged, or waiting for an away client (as --max-queued-messages counts them)",
      () => queues.queued(),
    );
    gauge("queued_messages_largest", "The most QoS 1/2 messages one session holds now", () =>
      queues.largest(),
    );
    gauge(
      "max_queued_messages",
      "The cap on one session's held messages (--max-queued-messages)",
      () => queues.cap,
    );
    gauge("session_queues_full", "Sessions whose held messages are at --max-queued-messages now", () =>
      queues.full(),
    );
    plain(
      "queued_messages_dropped_total",
      "QoS 1/2 messages not kept for a session at --max-queued-messages (sent only if its client was connected)",
      () => queues.dropped(),
    );
    new Gauge({
      name: `${p}store_up`,
      help: "1 while the store answers and takes writes; 0 while LevelDB writes fail or stop finishing, or Redis is silent or lost",
      labelNames: ["store"],
      registers: [r],
      collect() {
        this.set({ store: figures.store }, figures.storeHealth().up ? 1 : 0);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.registry.clear();
  }
}
