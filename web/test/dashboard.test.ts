/**
 * docs/grafana-twinfleet.json against what the project serves and what docs/prometheus-alerts.yml
 * pages on: each panel's query parses (promtool, when installed) and reads only metrics that a real
 * scrape of a standalone broker with a data directory and TLS (`broker --http`), of a twins service's
 * web server (`twins --http`) and of a run's (`sim --http`), all on port 0, serves, as their types
 * and labels; every alert's metrics are drawn, and the alert is named by the panel to open; a panel
 * of the alert rows draws the alert it names as the rule reads it, with the rule's threshold.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { RunningBroker } from "../../broker/server.js";
import { selfSigned } from "../../broker/test/certs.js";
import { FleetRun } from "../../fleet/run.js";
import { wallScheduler } from "../../twins/index.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { simFigures, twinsFigures } from "../../view/figures.js";
import { SimSource } from "../../view/sim-source.js";
import { TwinsSource } from "../../view/twins-source.js";
import { type BrokerHttpServer, startBrokerHttp } from "../broker-server.js";
import { startWebServer, type WebServer } from "../server.js";
import { WAITING_TEST_MS } from "./helpers.js";
import {
  alertRules,
  type Catalogue,
  dashboard,
  exprsOf,
  merged,
  metricsRead,
  type Panel,
  problems,
  scrapedCatalogue,
} from "./metric-names.js";

const TOKEN = "dashboard-token-0123456789abcdef";
const PROMTOOL = "/usr/bin/promtool";
const fx = new Fixtures();
let dir = "";
let broker: RunningBroker | undefined;
let brokerHttp: BrokerHttpServer | undefined;
let twinsWeb: WebServer | undefined;
let run: FleetRun | undefined;
let runSource: SimSource | undefined;
let runWeb: WebServer | undefined;
/** What the three serve, as scraped. */
let served: Catalogue;

async function scrape(origin: string): Promise<Catalogue> {
  const r = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status, origin).toBe(200);
  return scrapedCatalogue(await r.text());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tf-dashboard-"));
  const tls = { port: 0, ...selfSigned(dir, "broker") };
  broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: join(dir, "broker"), tls });
  brokerHttp = await startBrokerHttp({ figures: broker.figures, port: 0, token: TOKEN });
  fx.url = broker.url;
  const twins = await fx.twins();
  twinsWeb = await startWebServer({
    source: new TwinsSource(twins, "dashboard fleet"),
    kind: "twins",
    port: 0,
    token: TOKEN,
    scheduler: wallScheduler,
    figures: twinsFigures(twins, () => wallScheduler.now()),
  });
  run = await FleetRun.start({
    nodes: 4,
    topology: "ring",
    groupSize: 4,
    ratePerNodePerMin: 0,
    durationS: 60,
    settleS: 0,
    workers: 1,
    profile: "ideal",
    progressEveryS: 0.5,
  });
  runSource = new SimSource(run);
  runWeb = await startWebServer({
    source: runSource,
    kind: "sim",
    port: 0,
    token: TOKEN,
    scheduler: run.sched,
    figures: simFigures(run),
  });
  served = merged(
    await scrape(brokerHttp.origin),
    await scrape(twinsWeb.origin),
    await scrape(runWeb.origin),
  );
}, WAITING_TEST_MS);

afterAll(async () => {
  await runWeb?.close();
  runSource?.close();
  run?.stop();
  run?.cut();
  await run?.done;
  await twinsWeb?.close();
  await fx.close();
  await brokerHttp?.close();
  await broker?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, WAITING_TEST_MS);

const panels = (): readonly Panel[] => dashboard().panels;

/** A query as Prometheus gets it from Grafana: the variables put in. */
const asSent = (expr: string) => expr.replaceAll("$job", ".*").replaceAll("$__rate_interval", "1m");

/** A query without its job matchers (the dashboard's `$job`, a rule's job name) or its spaces. */
const bare = (expr: string) =>
  expr
    .replace(/\bjob=~?"[^"]*"\s*,?\s*/g, "")
    .replace(/,\s*\}/g, "}")
    .replace(/\{\s*\}/g, "")
    .replace(/\s+/g, "");

/** An alert's sides (`a or b`, `a and b`), each its compared query and the value it is compared with. */
function sides(expr: string): { query: string; value: number }[] {
  return expr.split(/\s+(?:or|and)\s+/).map((side) => {
    const m = /^([\s\S]*?)\s*(?:==|!=|>=|<=|>|<)\s*([\d.\s*]+)$/.exec(side.trim());
    if (!m) throw new Error(`an alert's side compares no figure: ${side}`);
    return { query: m[1]!, value: m[2]!.split("*").reduce((p, f) => p * Number(f), 1) };
  });
}

const RULES = alertRules();

/** The alert names a panel's description gives. */
const named = (p: Panel) => RULES.filter((r) => new RegExp(`\\b${r.alert}\\b`).test(p.description ?? ""));

describe("the Grafana dashboard in docs/", () => {
  it("has every panel's query parse and read only metrics a broker, a twins service and a run serve", () => {
    expect(served.get("twinfleet_broker_store_up")?.labels.has("store")).toBe(true);
    expect(served.has("twinfleet_broker_tls_certificate_expiry_timestamp_seconds")).toBe(true);
    expect(served.has("twinfleet_twins_history_written")).toBe(true);
    expect(served.has("twinfleet_event_loop_lag_seconds")).toBe(true);
    const queries = panels().flatMap((p) => exprsOf(p).map((expr) => ({ title: p.title, expr })));
    expect(queries.length).toBeGreaterThan(50);
    for (const { title, expr } of queries)
      expect(problems(expr, served), `panel "${title}": ${expr}`).toEqual([]);
    if (existsSync(PROMTOOL)) {
      const rules = join(dir, "panels.yml");
      const records = queries.map(
        (q, i) => `      - record: panel_query_${i}\n        expr: ${JSON.stringify(asSent(q.expr))}`,
      );
      writeFileSync(rules, `groups:\n  - name: dashboard\n    rules:\n${records.join("\n")}\n`);
      const checked = spawnSync(PROMTOOL, ["check", "rules", rules], { encoding: "utf8" });
      expect(checked.status, `${checked.stdout}${checked.stderr}`).toBe(0);
    } else {
      for (const { title, expr } of queries)
        for (const [open, close] of ["()", "{}", "[]"])
          expect(expr.split(open!).length, `panel "${title}": ${expr}`).toBe(expr.split(close!).length);
    }
  });

  it("draws every metric an alert reads, in a panel whose description names the alert", () => {
    const drawn = new Set(panels().flatMap((p) => exprsOf(p).flatMap(metricsRead)));
    expect(RULES.length).toBeGreaterThan(30);
    for (const rule of RULES) {
      for (const name of metricsRead(rule.expr))
        expect(drawn.has(name), `${rule.alert} reads ${name}, which no panel draws`).toBe(true);
      expect(
        panels().some((p) => named(p).some((r) => r.alert === rule.alert)),
        `no panel's description names ${rule.alert}, the panel to open when it fires`,
      ).toBe(true);
    }
  });

  it("has a panel of the alert rows draw each alert it names as the rule reads it, with its threshold", () => {
    const rows = panels().filter((p) => p.type === "row");
    expect(rows.map((r) => r.title)).toHaveLength(3);
    const top = Math.min(...rows.map((r) => r.gridPos.y));
    for (const p of panels().filter((x) => x.type !== "row" && x.gridPos.y > top)) {
      const drawnHere = new Set(exprsOf(p).map(bare));
      const steps = (p.fieldConfig?.defaults.thresholds?.steps ?? []).map((s) => s.value);
      for (const rule of named(p)) {
        const drawn = sides(rule.expr).filter((s) => drawnHere.has(bare(s.query)));
        expect(
          drawn.length,
          `panel "${p.title}" names ${rule.alert} and draws none of ${rule.expr}`,
        ).toBeGreaterThan(0);
        for (const s of drawn.filter((x) => x.value !== 0))
          expect(
            steps,
            `panel "${p.title}" draws ${rule.alert}'s ${s.query} without its ${s.value}`,
          ).toContain(s.value);
      }
    }
  });

  it("is whole: ids unique, panels within the 24 columns and not overlapping, every query on the chosen data source", () => {
    const d = dashboard();
    expect(d.schemaVersion).toBe(39);
    const ps = d.panels;
    expect(new Set(ps.map((p) => p.id)).size).toBe(ps.length);
    for (const p of ps) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    for (const [i, a] of ps.entries())
      for (const b of ps.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        expect(apart, `"${a.title}" and "${b.title}" overlap`).toBe(true);
      }
    // The data source variable, as Grafana writes it: `$` and the name in braces.
    const chosen = ["$", "{datasource}"].join("");
    for (const t of d.panels.flatMap((p) => p.targets ?? [])) expect(t.datasource?.uid).toBe(chosen);
  });
});
