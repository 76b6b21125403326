/**
 * Prometheus (Debian's `prometheus`, started here with a temporary config and store) scrapes the
 * sim's /metrics every second with the bearer token, and a query to its HTTP API returns the number
 * of registered nodes; it scrapes a standalone `twinfleet broker --http` too, the way docs/broker.md
 * configures it.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrokerProcess,
  PROMETHEUS,
  ROOT,
  requireProgram,
  type SimServer,
  startBrokerProcess,
  startPrometheus,
  startSim,
} from "./harness.js";

const NODES = 50;
let sim: SimServer;
let broker: BrokerProcess;
const BROKER_TOKEN = "broker-scrape-token-0123456789";
let prom: ChildProcess | undefined;
let promLog = "";
let dir: string;
let promPort = 0;

/** A port free right now (Prometheus does not report the port it picked for :0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  requireProgram(PROMETHEUS, "prometheus");
  [sim, broker] = await Promise.all([
    startSim(NODES, ["--workers", "1"]),
    startBrokerProcess(["--http-token", BROKER_TOKEN]),
  ]);
  dir = mkdtempSync(join(tmpdir(), "tf-prom-"));
  const target = new URL(sim.origin).host;
  const brokerTarget = new URL(broker.httpOrigin).host;
  writeFileSync(
    join(dir, "prometheus.yml"),
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: twinfleet",
      "    scrape_interval: 1s",
      "    metrics_path: /metrics",
      "    authorization: { type: Bearer, credentials_file: token }",
      `    static_configs: [{ targets: ["${target}"] }]`,
      "  - job_name: twinfleet-broker",
      "    scrape_interval: 1s",
      "    authorization: { type: Bearer, credentials_file: broker-token }",
      `    static_configs: [{ targets: ["${brokerTarget}"] }]`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "token"), sim.token);
  writeFileSync(join(dir, "broker-token"), BROKER_TOKEN);
});
afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const gone = new Promise((r) => prom!.once("exit", r));
    prom.kill("SIGTERM");
    await gone;
  }
  await sim?.stop();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Prometheus on /metrics", () => {
  it("scrapes the sim with the bearer token and answers the registered count", async () => {
    const port = await freePort();
    promPort = port;
    prom = startPrometheus(dir, port, (text) => {
      promLog += text;
    });
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0]?.value[1];
    };
    // Prometheus starts, scrapes once a second: ask until the sample is there and every node counted.
    let registered: string | undefined;
    let up: string | undefined;
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      try {
        up = await query('up{job="twinfleet"}');
        registered = await query("twinfleet_nodes_registered");
        if (up === "1" && registered === String(NODES)) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(up, `Prometheus did not scrape the sim's /metrics:\n${promLog.slice(-2000)}`).toBe("1");
    expect(registered).toBe(String(NODES));
    const metrics = await (await sim.api("metrics")).text();
    expect(metrics).toMatch(new RegExp(`^twinfleet_nodes_registered(\\{[^}]*\\})? ${NODES}$`, "m"));
  }, 90_000);

  it("scrapes a standalone broker: up, its store up, its clients by listener", async () => {
    expect(promPort, "the scrape test runs first").toBeGreaterThan(0);
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0]?.value[1];
    };
    let up: string | undefined;
    let store: string | undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      up = await query('up{job="twinfleet-broker"}');
      store = await query('twinfleet_broker_store_up{job="twinfleet-broker",store="memory"}');
      if (up === "1" && store === "1") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(up, `Prometheus did not scrape the broker's /metrics:\n${promLog.slice(-2000)}`).toBe("1");
    expect(store).toBe("1");
    expect(await query('twinfleet_broker_clients_connected{job="twinfleet-broker",listener="mqtt"}')).toBe(
      "0",
    );
  });

  it("accepts every query of the Grafana dashboard in docs/", async () => {
    expect(promPort, "the scrape test runs first").toBeGreaterThan(0);
    const dash = JSON.parse(readFileSync(join(ROOT, "docs/grafana-twinfleet.json"), "utf8")) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(10);
    for (const { title, expr } of exprs) {
      const q = expr.replaceAll("$job", ".*").replaceAll("$__rate_interval", "1m");
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
      expect(body.status, `panel "${title}": ${expr}: ${body.error}`).toBe("success");
    }
    // The gauges and counters the dashboard names exist on the scraped target.
    for (const name of [
      "twinfleet_nodes_online",
      "twinfleet_convergence_ratio",
      "twinfleet_broker_clients",
    ]) {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${name}`);
      const body = (await r.json()) as { data: { result: unknown[] } };
      expect(body.data.result.length, name).toBeGreaterThan(0);
    }
  });
});
