/**
 * `/metrics`: Prometheus text from prom-client, on a Registry of its own (never the global one), names
 * prefixed `twinfleet_`. Gauges and counters are read from the fleet view and the fleet's figures at
 * scrape time (collect callbacks), so nothing is counted twice and nothing runs between scrapes but
 * the histogram's intake. Every metric is described in docs/metrics.md, "Prometheus".
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { DROP_REASONS } from "../protocol/index.js";
import type { Figures } from "../view/figures.js";
import type { ConsoleSource } from "../view/source.js";
import type { ConnectionCounts } from "./connection-limits.js";
import { connectionMetrics } from "./connection-metrics.js";
import type { EventHub } from "./events.js";
import { processMetrics } from "./process-metrics.js";
import { readGauge } from "./read-gauge.js";

/** What `/metrics` reads beyond the view: the fleet's own figures (view/figures.ts builds them). */
export type FleetFigures = Figures;

/**
 * Buckets of the sync latency, seconds: fine up to the paper's 1 s, past it to the 5 s limit, and on
 * to the length of an outage the fleet rides out (a broker restarted, a partition: tens of seconds to
 * minutes), whose late deliveries a quantile over a last bucket of 10 s read as 10 s.
 */
export const LATENCY_BUCKETS_S = [
  0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60, 120, 300,
];

/** A counter set to a total read elsewhere (prom-client counters only go up: add the difference). */
function total(c: Counter<string>, value: number, labels: Record<string, string> = {}): void {
  c.reset();
  c.inc(labels, Math.max(0, value));
}

export class WebMetrics {
  readonly registry = new Registry();
  private readonly latency: Histogram;

  constructor(
    source: ConsoleSource,
    figures: FleetFigures = {},
    hub?: EventHub,
    connections?: ConnectionCounts,
  ) {
    const r = this.registry;
    const p = "twinfleet_";
    processMetrics(r, p);
    const gauge = (name: string, help: string, read: () => number) => readGauge(r, p + name, help, read);
    const nodes = () => source.nodes();
    gauge("nodes_registered", "Nodes the twins know of with a registration (kind known)", () =>
      nodes().reduce((n, x) => n + (x.kind !== undefined ? 1 : 0), 0),
    );
    gauge("nodes_online", "Nodes online now", () => nodes().reduce((n, x) => n + (x.online ? 1 : 0), 0));
    gauge(
      "nodes_unheard",
      "Nodes online only by the status a broker that restarted kept, not heard since (not in nodes_online)",
      () => nodes().reduce((n, x) => n + (x.unheard === true ? 1 : 0), 0),
    );
    gauge(
      "nodes_in_sync",
      "Followers holding the newest state upstream of them",
      () => source.convergence().inSync,
    );
    gauge(
      "convergence_ratio",
      "Followers in sync / followers known (1 when there are none)",
      () => source.convergence().fraction,
    );
    // The ratio judges an offline follower by its last report: with this at 0 it judges nothing current.
    gauge(
      "followers_online",
      "Followers known (as convergence_ratio counts them) that are online now",
      () => {
        const c = source.convergence();
        return c.online ?? c.known;
      },
    );
    gauge(
      "followers_unheard",
      "Followers known (as convergence_ratio counts them) not heard since the broker restarted: neither online nor offline",
      () => source.convergence().unheard ?? 0,
    );
    this.latency = new Histogram({
      name: `${p}sync_latency_seconds`,
      help: "Sync latency: a change at a node until a follower applied it",
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
      collect: () => {
        for (const ms of figures.latencySince?.() ?? []) this.latency.observe(ms / 1000);
      },
    });
    /** A counter read from a figure; absent where the process has no such figure (never a 0 that was not counted). */
    const counter = (name: string, help: string, read: (() => number) | undefined) => {
      if (read)
        new Counter({
          name: p + name,
          help,
          registers: [r],
          collect() {
            total(this, read());
          },
        });
    };
    counter("sync_late_total", "Pairs reflected later than 5 s", figures.late?.bind(figures));
    counter(
      "sync_lost_total",
      "Pairs not reflected within 5 s (late plus never)",
      figures.lost?.bind(figures),
    );
    counter(
      "reconnects_total",
      "Node sessions lost (each followed by a reconnect attempt)",
      figures.reconnects?.bind(figures),
    );
    counter(
      "nodes_flapping_total",
      "Nodes told as flapping: offline 3 times within 30 s (two clients with one id, or a reboot loop)",
      figures.flapping?.bind(figures),
    );
    counter(
      "nodes_forgotten_silent_total",
      "Nodes retired (as twinfleet forget does) for not being seen for longer than --forget-after",
      figures.forgottenSilent?.bind(figures),
    );
    if (figures.idsInUse)
      gauge(
        "nodes_ids_in_use",
        "Nodes whose sessions another client with the same client id keeps taking over",
        figures.idsInUse.bind(figures),
      );
    const drops = figures.nodeDrops?.bind(figures);
    if (drops)
      new Counter({
        name: `${p}node_drops_total`,
        help: "A sim: messages its nodes dropped, by reason (stale: the echo of a node's own state, which every pairing cycle ends with; the others are bad or refused input)",
        labelNames: ["reason"],
        registers: [r],
        collect() {
          const d = drops();
          this.reset();
          // Every reason, 0 until counted: the label set is the protocol's closed one.
          for (const reason of DROP_REASONS) this.inc({ reason }, d[reason] ?? 0);
        },
      });
    counter(
      "node_packets_oversized_total",
      "A sim: packets over its nodes' PubSubClient buffer, drained and dropped unread",
      figures.nodeOversized?.bind(figures),
    );
    // A run's own embedded broker only: a live fleet's (or a run's on someone else's) broker serves its own.
    const clients = figures.brokerClients?.bind(figures);
    if (clients) gauge("broker_clients", "Clients connected to the run's embedded broker", clients);
    const twinsBroker = figures.twinsBroker?.bind(figures);
    if (twinsBroker)
      new Gauge({
        name: `${p}twins_broker`,
        help: "The twins service's broker: 1 for its state now (up: heard from; silent: connected, nothing heard for 5 s; lost: connection down, or not made yet), 0 for the others",
        labelNames: ["state"],
        registers: [r],
        collect() {
          const now = twinsBroker();
          for (const state of ["up", "silent", "lost"]) this.set({ state }, state === now ? 1 : 0);
        },
      });
    const outages = figures.twinsBrokerOutages?.bind(figures);
    if (outages)
      new Counter({
        name: `${p}twins_broker_outages_total`,
        help: "Outages of the twins service's broker that have ended, by cause: own-stall, the service itself did not run (stopped, its VM paused) and lost its connection on its own timers, back soon after; broker, any other (the broker, or the path to it)",
        labelNames: ["cause"],
        registers: [r],
        collect() {
          this.reset();
          for (const [cause, n] of Object.entries(outages())) this.inc({ cause }, n);
        },
      });
    const behind = figures.behindMaxMs?.bind(figures);
    if (behind)
      gauge(
        "sync_behind_max_seconds",
        "The longest an online follower has been behind a direct source holding a newer state, now (0 when none is)",
        () => behind() / 1000,
      );
    const saved = figures.twinsStoreSaved?.bind(figures);
    if (saved)
      gauge(
        "twins_store_saved",
        "The twins service's desired state: 1 while saved, 0 while saves fail or one has not ended for 5 s (a full, read-only or frozen disk; a restart would lose what is not saved)",
        () => (saved() ? 1 : 0),
      );
    const history = figures.twinsHistoryWritten?.bind(figures);
    if (history)
      gauge(
        "twins_history_written",
        "The twins service's convergence history in its data directory: 1 while written (or not kept), 0 while its writes fail; the chart's history is then kept in memory only (not state: /healthz stays 200, listing it under degraded)",
        () => (history() ? 1 : 0),
      );
    const others = figures.twinsOtherServices?.bind(figures);
    if (others)
      gauge(
        "twins_other_services",
        "Other twins services holding a presence on the fleet now: each sends its own pairings and sets, and they undo each other's (0 when this one is alone)",
        others,
      );
    const messages = figures.brokerMessages?.bind(figures);
    if (messages)
      new Counter({
        name: `${p}broker_messages_total`,
        help: "Messages the run's embedded broker took in (direction=in) and delivered (direction=out)",
        labelNames: ["direction"],
        registers: [r],
        collect() {
          const m = messages();
          this.reset();
          this.inc({ direction: "in" }, m.in);
          if (m.out !== undefined) this.inc({ direction: "out" }, m.out);
        },
      });
    new Counter({
      name: `${p}twins_bad_input_total`,
      help: "Messages the twins refused, by reason",
      labelNames: ["reason"],
      registers: [r],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(figures.badInput?.() ?? {})) this.inc({ reason }, n);
      },
    });
    const dropped = figures.brokerDropped?.bind(figures);
    if (dropped)
      new Counter({
        name: `${p}twins_broker_dropped_total`,
        help: "Messages the twins service's broker dropped: retained writes it acknowledged and never delivered back (what=retained-write: its access rules?), and the rise of Mosquitto's count of messages dropped for full client queues (what=to-clients)",
        labelNames: ["what"],
        registers: [r],
        collect() {
          this.reset();
          for (const [what, n] of Object.entries(dropped())) this.inc({ what }, n);
        },
      });
    counter(
      "twins_replays_cut_total",
      "Reads of the broker's retained state by the twins service (its start, each reconnect) whose replay the broker cut (Mosquitto's max_queued_bytes, max_queued_messages); each re-read node by node",
      figures.replaysCut?.bind(figures),
    );
    new Gauge({
      name: `${p}event_loop_lag_seconds`,
      help: "Event-loop lag p99 by thread now (main: since the previous scrape; a sim's broker and workers: over their last second)",
      labelNames: ["thread"],
      registers: [r],
      collect() {
        this.reset();
        for (const [thread, ms] of Object.entries(figures.lagP99Ms?.() ?? {}))
          this.set({ thread }, ms / 1000);
      },
    });
    if (hub) {
      gauge("web_event_clients", "Pages connected to the event stream", () => hub.stats.clients);
      counter(
        "web_event_clients_dropped_total",
        "Event-stream clients dropped for falling behind, or ended to make room for a stream with the token",
        () => hub.stats.dropped,
      );
    }
    if (connections) connectionMetrics(r, p, connections);
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
