/**
 * The metrics docs/prometheus-alerts.yml and docs/grafana-twinfleet.json read, against what the three
 * exporters serve: a standalone broker (`twinfleet broker --http`, web/broker-metrics.ts), a live
 * fleet's twins service (`twins --http`, `monitor`: web/metrics.ts on twinsFigures) and a run with every
 * figure (`sim --http` with its own embedded broker). Each name read exists with the type the query
 * takes it as (rate/increase over a counter or a histogram's series), each label matched or kept by
 * `by (…)` is one of its labels, and each dashboard panel that is not a run's own figure has data on a
 * site of a standalone broker and a twins service. Each metric served is read by an alert or named in
 * docs/metrics.md ("Metrics no rule reads") with why none is needed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { RunningBroker } from "../../broker/server.js";
import type { FleetRun } from "../../fleet/run.js";
import type { Twins } from "../../twins/index.js";
import { type Figures, simFigures, twinsFigures } from "../../view/figures.js";
import type { ConsoleSource } from "../../view/source.js";
import { BrokerMetrics } from "../broker-metrics.js";
import { type ConnectionCounts, noConnections } from "../connection-limits.js";
import type { EventHub } from "../events.js";
import { WebMetrics } from "../metrics.js";
import {
  alertRules,
  type Catalogue,
  dashboard,
  exprsOf,
  lookup,
  merged,
  problems,
  ROOT,
  type Served,
} from "./metric-names.js";

/** Every metric a registry serves, with its type and label names (the target's job and instance added). */
async function catalogue(registry: Registry): Promise<Catalogue> {
  const out = new Map<string, Served>();
  for (const m of await registry.getMetricsAsJSON()) {
    const declared = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames;
    const labels = new Set(["job", "instance", ...(declared ?? [])]);
    for (const v of m.values) for (const l of Object.keys(v.labels)) labels.add(l);
    out.set(m.name, { type: String(m.type), labels });
  }
  return out;
}

/** A fleet view with no node: the names and types do not depend on the fleet. */
const source = {
  nodes: () => [],
  convergence: () => ({ inSync: 0, fraction: 1, known: 0, online: 0 }),
} as unknown as ConsoleSource;

/** A run with every figure, its own embedded broker included (`sim --http`). */
const runFigures: Required<Figures> = {
  latencySince: () => [0.2],
  late: () => 0,
  lost: () => 0,
  reconnects: () => 0,
  brokerClients: () => 0,
  brokerMessages: () => ({ in: 0, out: 0 }),
  twinsBroker: () => "up",
  twinsBrokerOutages: () => ({ "own-stall": 0, broker: 0 }),
  twinsStoreSaved: () => true,
  twinsHistoryWritten: () => true,
  twinsOtherServices: () => 0,
  behindMaxMs: () => 0,
  badInput: () => ({ "bad-payload": 0 }),
  brokerDropped: () => ({ "retained-write": 0 }),
  replaysCut: () => 0,
  flapping: () => 0,
  forgottenSilent: () => 0,
  idsInUse: () => 0,
  nodeDrops: () => ({ "bad-payload": 0 }),
  nodeOversized: () => 0,
  lagP99Ms: () => ({ main: 1 }),
};

/** A web server's connection counts, and an event hub's, as `twins --http` and `broker --http` have them. */
const connections = (): ConnectionCounts => noConnections(256);
const hub = { stats: { clients: 0, dropped: 0 } } as unknown as EventHub;

/** A twins service with no node, as much of it as the figures read. */
function liveTwins() {
  return {
    on: () => {},
    waiting: undefined,
    unsavedSince: undefined,
    get: () => undefined,
    convergence: () => ({ followers: [] }),
    otherServices: [],
    badInput: () => ({ byReason: { "bad-payload": 0 } }),
  };
}

/** A twins service's figures, as twinsFigures gives them to `twins --http`. */
function liveFigures(): Figures {
  return twinsFigures(liveTwins() as unknown as Twins, () => 0);
}

let broker: RunningBroker | undefined;
let brokerCat: Catalogue;
let twinsCat: Catalogue;
let runCat: Catalogue;

beforeAll(async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const figures = broker.figures;
  // With --tls-port the certificate's expiry is served too.
  const withTls = { ...figures, tally: { ...figures.tally, certificateNotAfter: 2e12 } };
  brokerCat = await catalogue(new BrokerMetrics(withTls, connections()).registry);
  twinsCat = await catalogue(new WebMetrics(source, liveFigures(), hub, connections()).registry);
  runCat = await catalogue(new WebMetrics(source, runFigures, hub, connections()).registry);
});
afterAll(async () => {
  await broker?.close();
});

/** Everything any of the three serves (a name served by two has one type in both). */
const all = (): Catalogue => merged(brokerCat, twinsCat, runCat);

/** The expressions of docs/prometheus-alerts.yml's alerts, in order. */
const alertExprs = (): string[] => alertRules().map((r) => r.expr);

describe("the metrics the alerts and the dashboard read", () => {
  it("a live fleet's twins service serves none of a run's own figures as a 0 it did not count", () => {
    for (const name of [
      "twinfleet_broker_clients",
      "twinfleet_broker_messages_total",
      "twinfleet_sync_late_total",
      "twinfleet_sync_lost_total",
      "twinfleet_reconnects_total",
    ]) {
      expect(twinsCat.has(name), name).toBe(false);
      expect(runCat.has(name), name).toBe(true);
    }
  });

  it("a run serves its broker's clients and messages only when that broker is its own, in its process", async () => {
    /** A run whose broker gives these stats (an embedded one) or none (`--broker`, `--broker-process`). */
    const run = (stats: { clients: number; messagesIn: number } | undefined) =>
      ({
        collector: {
          checker: { onReflected: () => {}, counts: () => ({ late: 0, lost: 0 }) },
          disconnects: 0,
          drops: {},
          oversized: 0,
        },
        clashes: { count: 0 },
        twins: liveTwins(),
        sched: { now: () => 0 },
        lagRecentP99ByThread: () => ({ main: 1 }),
        brokerStats: () => stats,
      }) as unknown as FleetRun;
    const own = await new WebMetrics(source, simFigures(run({ clients: 3, messagesIn: 5 }))).text();
    expect(own).toMatch(/^twinfleet_broker_clients 3$/m);
    expect(own).toMatch(/^twinfleet_broker_messages_total\{direction="in"\} 5$/m);
    const joined = await new WebMetrics(source, simFigures(run(undefined))).text();
    expect(joined).not.toMatch(/twinfleet_broker_/);
    expect(joined).toMatch(/^twinfleet_sync_lost_total 0$/m);
  });

  it("every alert's expression reads metrics served, as their types and labels", () => {
    const exprs = alertExprs();
    expect(exprs.length).toBeGreaterThan(20);
    const cat = all();
    for (const e of exprs) expect(problems(e, cat), e).toEqual([]);
  });

  it("every metric served is read by an alert or named in docs/metrics.md as one no rule reads, and why", () => {
    const read = new Set(
      alertExprs().flatMap((e) =>
        [...e.matchAll(/\btwinfleet_\w+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")),
      ),
    );
    const metrics = readFileSync(join(ROOT, "docs/metrics.md"), "utf8");
    const section = metrics.split(/^### Metrics no rule reads$/m)[1]?.split(/^#/m)[0] ?? "";
    // The first column of its table: `twinfleet_name`, or `twinfleet_prefix_*` for a family.
    const named = [...section.matchAll(/^\| (`twinfleet_[^|]*)\|/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`(twinfleet_\w+\*?)`/g)].map((n) => n[1]!),
    );
    expect(named.length).toBeGreaterThan(20);
    const listed = (name: string) =>
      named.some((n) => (n.endsWith("*") ? name.startsWith(n.slice(0, -1)) : n === name));
    for (const name of all().keys())
      expect(
        read.has(name) || listed(name),
        `${name}: read by no alert, nor named under "Metrics no rule reads"`,
      ).toBe(true);
    for (const n of named) {
      expect(read.has(n), `${n} is named as read by no rule, yet an alert reads it`).toBe(false);
      expect(
        [...all().keys()].some((name) => (n.endsWith("*") ? name.startsWith(n.slice(0, -1)) : n === name)),
        `${n} is named under "Metrics no rule reads" and nothing serves it`,
      ).toBe(true);
    }
  });

  it("every dashboard query reads metrics served, as their types and labels", () => {
    const d = dashboard();
    const cat = all();
    const exprs = d.panels.flatMap(exprsOf);
    expect(exprs.length).toBeGreaterThan(15);
    for (const e of exprs) expect(problems(e, cat), e).toEqual([]);
    // The job picker offers the jobs of every exporter.
    const job = d.templating.list.find((v) => v.name === "job");
    const q = JSON.stringify(job?.query);
    const exporters: [string, Catalogue][] = [
      ["the broker", brokerCat],
      ["a twins service", twinsCat],
      ["a run", runCat],
    ];
    for (const [who, cat] of exporters)
      expect(
        [...q.matchAll(/twinfleet_\w+/g)].some((m) => cat.has(m[0])),
        `the job variable (${q}) lists the job of ${who}`,
      ).toBe(true);
  });

  it("every dashboard panel but a run's own figures has data on a site of a standalone broker and a twins service", () => {
    const site = new Map([...brokerCat, ...twinsCat]);
    for (const p of dashboard().panels) {
      if (p.type === "row" || /^A run's figures?\b/.test(p.description ?? "")) continue;
      // A query has data when one side of an `or` reads only metrics the site serves.
      const served = exprsOf(p).some((expr) =>
        expr
          .split(/\)\s+or\s+|\s+or\s+/)
          .some((side) =>
            [...side.matchAll(/\btwinfleet_\w+/g)].every((m) => lookup(site, m[0]) !== undefined),
          ),
      );
      expect(served, `panel "${p.title}" reads ${exprsOf(p).join(" | ")}`).toBe(true);
    }
  });
});
