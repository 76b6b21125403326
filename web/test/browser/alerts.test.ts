/**
 * docs/prometheus-alerts.yml, the alerting rules an operator loads: `promtool check rules` on the
 * file as shipped; its unit tests (prometheus-alerts.test.yml, `promtool test rules`), a firing and
 * a quiet case for every alert; every metric it reads documented; and Debian's Prometheus evaluating
 * them (every `for:` cut to 5 s in a copy) against a real `twinfleet broker`, a standalone
 * `twinfleet twins` and a small `twinfleet sim --shard 1/1` of 20 nodes: the dashboard's panels have
 * data (but a run's own figures); the nodes killed, the fleet offline alerts go pending, then fire;
 * the broker killed, its own and the twins' go the same way.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliArgs } from "../../../node/test/cli-command.js";
import {
  type BrokerProcess,
  PROMETHEUS,
  ROOT,
  requireProgram,
  startBrokerProcess,
  startPrometheus,
  startTwinsProcess,
  type TwinsProcess,
} from "./harness.js";

const PROMTOOL = "/usr/bin/promtool";
const RULES = join(ROOT, "docs/prometheus-alerts.yml");
const UNIT_TESTS = join(ROOT, "web/test/browser/prometheus-alerts.test.yml");
const NODES = 20;

function promtool(args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { cwd: ROOT, timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/** The alert names of a rules file, in order. */
function alertNames(rules: string): string[] {
  return [...rules.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]!);
}

describe("docs/prometheus-alerts.yml", () => {
  it("passes promtool check rules as shipped", async () => {
    requireProgram(PROMTOOL, "prometheus");
    const r = await promtool(["check", "rules", RULES]);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code, r.out).toBe(0);
  });

  it("passes its promtool unit tests, which have a firing and a quiet case for every alert", async () => {
    requireProgram(PROMTOOL, "prometheus");
    const r = await promtool(["test", "rules", UNIT_TESTS]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
    const names = alertNames(readFileSync(RULES, "utf8"));
    expect(names.length).toBeGreaterThan(15);
    // Each case of the unit tests: its alert name and whether it expects the alert to fire.
    const cases = readFileSync(UNIT_TESTS, "utf8")
      .split(/- (?=\{ eval_time|eval_time)/)
      .flatMap((c) => {
        const name = /alertname: (\w+)/.exec(c)?.[1];
        return name ? [{ name, quiet: /exp_alerts: \[\]/.test(c) }] : [];
      });
    for (const name of names) {
      expect(
        cases.some((c) => c.name === name && !c.quiet),
        `${name} has a firing case`,
      ).toBe(true);
      expect(
        cases.some((c) => c.name === name && c.quiet),
        `${name} has a quiet case`,
      ).toBe(true);
    }
  });

  it("reads only metrics docs/metrics.md describes", () => {
    const rules = readFileSync(RULES, "utf8");
    const exprs = [...rules.matchAll(/^\s*expr: (?:>-\n)?([\s\S]*?)\n\s*(?:for|labels):/gm)].map(
      (m) => m[1]!,
    );
    expect(exprs.length).toBe(alertNames(rules).length);
    const metrics = readFileSync(join(ROOT, "docs/metrics.md"), "utf8");
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\btwinfleet_\w+/g)].map((m) => m[0])));
    for (const name of names) {
      const bare = name.replace(/^twinfleet_/, "").replace(/_bucket$/, "");
      // Named in a table (`nodes_online`, `broker_store_up{store}`) or in full.
      const named = [`\`${bare}\``, `\`${bare}{`, `\`${name}\``, `\`${name}{`];
      expect(
        named.some((n) => metrics.includes(n)),
        name,
      ).toBe(true);
    }
  });
});

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

interface Alert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: "pending" | "firing";
}

let dir: string | undefined;
let broker: BrokerProcess | undefined;
let twins: TwinsProcess | undefined;
let sim: ChildProcess | undefined;
let prom: ChildProcess | undefined;

async function ended(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await gone;
}

afterAll(async () => {
  await ended(prom);
  await ended(sim);
  await twins?.stop();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the alerts in a real Prometheus", () => {
  it("go pending, then fire, when the nodes and then the broker are killed", async () => {
    requireProgram(PROMETHEUS, "prometheus");
    dir = mkdtempSync(join(tmpdir(), "tf-alerts-"));
    broker = await startBrokerProcess();
    twins = await startTwinsProcess(broker.brokerUrl, join(dir, "twins"));
    sim = spawn(
      process.execPath,
      [
        ...cliArgs(),
        ...["sim", "--shard", "1/1", "--shard-report", join(dir, "shard.json")],
        ...["--broker", broker.brokerUrl, "--nodes", String(NODES), "--rate", "30", "--duration", "600"],
        ...["--topology", "ring", "--group-size", "5", "--headless", "--progress-every", "600"],
      ],
      { cwd: ROOT, stdio: ["ignore", "ignore", "ignore"] },
    );
    const reap = () => sim?.kill("SIGKILL");
    process.once("exit", reap);
    // The file as shipped, every `for:` cut to 5 s: the test waits seconds, not minutes.
    const shipped = readFileSync(RULES, "utf8");
    const fors = shipped.match(/^\s+for: \d+[smh]$/gm) ?? [];
    expect(fors.length).toBeGreaterThan(10);
    writeFileSync(join(dir, "rules.yml"), shipped.replace(/^(\s+)for: \d+[smh]$/gm, "$1for: 5s"));
    const port = await freePort();
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        "rule_files: [rules.yml]",
        "scrape_configs:",
        "  - job_name: twinfleet-broker",
        `    static_configs: [{ targets: ["${new URL(broker.httpOrigin).host}"] }]`,
        "  - job_name: twinfleet-twins",
        `    static_configs: [{ targets: ["${new URL(twins.httpOrigin).host}"] }]`,
        "",
      ].join("\n"),
    );
    let promLog = "";
    prom = startPrometheus(dir, port, (text) => {
      promLog += text;
    });
    const api = async <T>(path: string): Promise<T | undefined> => {
      try {
        const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/${path}`)).json()) as { data: T };
        return body.data;
      } catch {
        return undefined; // not listening yet
      }
    };
    const query = async (q: string) =>
      (await api<{ result: { value: [number, string] }[] }>(`query?query=${encodeURIComponent(q)}`))
        ?.result[0]?.value[1];
    const alerts = async () => (await api<{ alerts: Alert[] }>("alerts"))?.alerts ?? [];
    /** Polls the alerts until `name` fires; the states it was seen in on the way. */
    const untilFiring = async (name: string, ms: number) => {
      const seen = new Set<string>();
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const a = (await alerts()).find((x) => x.labels.alertname === name);
        if (a) seen.add(a.state);
        if (a?.state === "firing") return { alert: a, seen };
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`${name} did not fire within ${ms} ms (seen: ${[...seen].join(", ") || "none"}); alerts:
${JSON.stringify(await alerts())}\n${promLog.slice(-1500)}`);
    };

    // The fleet up and scraped: every node online, and none of the alerts below active.
    const deadline = Date.now() + 45_000;
    let online: string | undefined;
    while (Date.now() < deadline) {
      online = await query('twinfleet_nodes_online{job="twinfleet-twins"}');
      const brokerUp = await query('up{job="twinfleet-broker"}');
      if (online === String(NODES) && brokerUp === "1") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(online, `the twins' nodes online, as Prometheus scraped them:\n${promLog.slice(-1500)}`).toBe(
      String(NODES),
    );
    expect(await query('twinfleet_twins_broker{job="twinfleet-twins",state="up"}')).toBe("1");
    expect(await query('twinfleet_broker_store_up{job="twinfleet-broker"}')).toBe("1");
    // Let the rules see the fleet whole for longer than their `for:`.
    await new Promise((r) => setTimeout(r, 6000));
    const quiet = (await alerts()).map((a) => a.labels.alertname);
    expect(quiet).toEqual([]);
    // Every dashboard panel but a run's own figures (and a TLS certificate's) has data from a broker and a twins service.
    const dash = JSON.parse(readFileSync(join(ROOT, "docs/grafana-twinfleet.json"), "utf8")) as {
      panels: { type: string; title: string; description?: string; targets?: { expr: string }[] }[];
    };
    // A row has no query; a TLS certificate is served only with --tls-port.
    for (const p of dash.panels) {
      if (p.type === "row" || /^(A run's figures?|With --tls-port only)\b/.test(p.description ?? ""))
        continue;
      const counts = await Promise.all(
        (p.targets ?? []).map(async (t) => {
          const q = t.expr.replaceAll("$job", ".*").replaceAll("$__rate_interval", "1m");
          return (
            (await api<{ result: unknown[] }>(`query?query=${encodeURIComponent(q)}`))?.result.length ?? 0
          );
        }),
      );
      expect(
        counts.some((n) => n > 0),
        `panel "${p.title}" has no data: ${JSON.stringify(p.targets)}`,
      ).toBe(true);
    }

    // The nodes gone (kill -9: the broker publishes their wills at once).
    await ended(sim);
    process.removeListener("exit", reap);
    const mostly = await untilFiring("TwinfleetFleetMostlyOffline", 30_000);
    expect([...mostly.seen]).toEqual(["pending", "firing"]);
    expect(mostly.alert.labels).toMatchObject({ job: "twinfleet-twins", severity: "critical" });
    const offline = await untilFiring("TwinfleetNodesOffline", 15_000);
    expect(offline.alert.annotations.summary).toBe(
      `${NODES} nodes of ${new URL(twins.httpOrigin).host}'s fleet are offline`,
    );
    await untilFiring("TwinfleetNodesDroppedOff", 15_000);
    // Offline followers are not behind: they are told by their presence.
    expect((await alerts()).some((a) => a.labels.alertname === "TwinfleetNodesBehind")).toBe(false);

    // The broker gone: its scrape fails, and the twins service loses it.
    await broker.stop();
    const down = await untilFiring("TwinfleetBrokerDown", 30_000);
    expect([...down.seen]).toEqual(["pending", "firing"]);
    expect(down.alert.labels).toMatchObject({
      job: "twinfleet-broker",
      instance: new URL(broker.httpOrigin).host,
      severity: "critical",
    });
    const lost = await untilFiring("TwinfleetTwinsBrokerLost", 30_000);
    expect(lost.alert.labels).toMatchObject({ job: "twinfleet-twins", severity: "critical" });
    expect(lost.alert.labels.state).toBeUndefined();
    expect(lost.alert.annotations.description).toMatch(/reconnects by itself/);
    // The twins service itself answers still, and its store is saved.
    expect((await alerts()).some((a) => a.labels.alertname === "TwinfleetTwinsDown")).toBe(false);
    expect((await alerts()).some((a) => a.labels.alertname === "TwinfleetTwinsStoreNotSaved")).toBe(false);
  }, 150_000);
});
