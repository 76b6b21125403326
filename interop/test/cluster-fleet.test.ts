// A fleet spread over a 3-member NATS cluster: protocol-exact nodes on every member in rings whose
// every hop crosses members, paired by a twins service on the first member; then `twinfleet twins`
// as its own process on one member and a simulated fleet (`sim --broker`) joining it from another.
// Each press is timed until every follower in its ring holds it: none may be lost, p99 under 1 s.
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runFleet } from "../../fleet/run.js";
import type { CoreClient } from "../../node/mqtt-node.js";
import { cliArgs } from "../../node/test/cli-command.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { type NatsCluster, startCluster } from "../cluster.js";
import { startNode, until } from "./helpers.js";

let cluster: NatsCluster;
const fx = new Fixtures();
beforeAll(async () => {
  cluster = await startCluster({ members: 3 });
});
afterEach(() => fx.close());
afterAll(async () => {
  await cluster?.close();
});

const url = (i: number): string => cluster.urls[i] as string;

/** The p-th percentile (nearest rank) of `xs`. */
function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe("a fleet across the members of a NATS cluster", () => {
  it("rings whose every hop crosses members stay in sync: nothing lost, p99 under 1 s", async () => {
    fx.url = url(0);
    const t = await fx.twins();
    const rings = 4;
    const size = 3;
    const nodes: CoreClient[][] = [];
    // Node j of a ring sits on member j: every follow crosses from one member to another.
    for (let r = 0; r < rings; r++) {
      const ring: CoreClient[] = [];
      for (let j = 0; j < size; j++)
        ring.push(fx.track(await startNode(url(j), `cx-${r}-${j}`), (n) => n.stop()));
      nodes.push(ring);
    }
    const ids = nodes.flatMap((ring, r) => ring.map((_, j) => `cx-${r}-${j}`));
    await until(
      () => ids.every((id) => t.get(id)?.presence === "online"),
      "every node online on member 1",
      10_000,
    );
    for (let r = 0; r < rings; r++)
      for (let j = 0; j < size; j++) await t.pair(`cx-${r}-${(j + 1) % size}`, `cx-${r}-${j}`);
    await until(
      () => nodes.flat().every((n) => n.state.sources.length === 1),
      "every node follows its ring neighbour",
      10_000,
    );
    // Each press: time until every other node of the ring holds its stamp, or 5 s (lost).
    const latencies: number[] = [];
    let lost = 0;
    const presses = 5;
    for (let k = 0; k < presses; k++) {
      for (const ring of nodes) {
        for (const [j, src] of ring.entries()) {
          src.press();
          const stamp = src.state.stamp;
          const started = performance.now();
          const followers = ring.filter((_, i) => i !== j);
          const holds = (n: CoreClient) =>
            n.state.stamp.counter === stamp.counter && n.state.stamp.origin === stamp.origin;
          try {
            await until(
              () => followers.every(holds),
              `press ${stamp.counter}@${stamp.origin} in its ring`,
              5000,
            );
            latencies.push(performance.now() - started);
          } catch {
            lost += followers.filter((n) => !holds(n)).length;
          }
        }
      }
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `cluster rings: ${latencies.length} presses reached every follower, ${lost} deliveries lost; ring sync p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
    );
    expect(lost).toBe(0);
    expect(latencies.length).toBe(presses * rings * size);
    expect(p99).toBeLessThan(1000);
    // The twins service on member 1 saw every report from the other members.
    await until(() => t.convergence().inSync === rings * size, "every pairing in sync on the twins", 5000);
  }, 90_000);

  it("the twins service on member 1 registers nodes on members 2 and 3 and sets their state", async () => {
    fx.url = url(0);
    const t = await fx.twins();
    const b = fx.track(await startNode(url(1), "ts-b"), (n) => n.stop());
    const c = fx.track(await startNode(url(2), "ts-c"), (n) => n.stop());
    await until(
      () => t.get("ts-b")?.kind === "sim" && t.get("ts-c")?.kind === "sim",
      "ts-b and ts-c registered",
    );
    await t.set("ts-b", true);
    await t.set("ts-c", true);
    await until(() => b.state.on && c.state.on, "ts-b and ts-c on");
    await until(
      () => t.get("ts-b")?.reported?.on === true && t.get("ts-c")?.reported?.on === true,
      "their reports back on member 1",
    );
    expect(t.badInput().total).toBe(0);
  });
});

describe("`twinfleet twins` on member 1, `sim --broker` on member 2", () => {
  let twins: ChildProcess | undefined;
  let log = "";
  afterEach(async () => {
    if (twins && twins.exitCode === null) {
      const exited = new Promise((r) => twins?.once("exit", r));
      twins.kill("SIGTERM");
      await exited;
    }
  });

  it("the fleet joins the twins service across members, registers, loses nothing", async () => {
    twins = spawn(
      process.execPath,
      [...cliArgs(), "--log-format", "json", "twins", "--broker", url(0), "--prefix", "sf"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const child = twins;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`twinfleet twins did not start:\n${log}`)), 30_000);
      const seen = (b: Buffer) => {
        log += b.toString();
        if (log.includes("connected and queried")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on("data", seen);
      child.stderr?.on("data", seen);
      child.once("exit", (code) => reject(new Error(`twinfleet twins exited (${code}):\n${log}`)));
    });
    const r = await runFleet({
      broker: url(1),
      prefix: "sf",
      nodes: 60,
      durationS: 6,
      settleS: 4,
      ratePerNodePerMin: 10,
      groupSize: 4,
      workers: 1,
      seed: "cluster",
    });
    console.log(
      `sim on member 2, twins on member 1: ${r.presses} presses, ${r.deliveries} deliveries, ${r.lost} lost; sync p50 ${r.sync.p50Ms} ms, p99 ${r.sync.p99Ms} ms; registration max ${r.registration.maxMs} ms`,
    );
    expect(r.scenario.twins).toBe("joined");
    expect(r.registration.registered).toBe(60);
    expect(r.presses).toBeGreaterThan(20);
    expect(r).toMatchObject({ lost: 0, lostForGood: 0, regressions: 0, diverged: 0 });
    expect(r.sync.p99Ms).toBeLessThan(1000);
    expect(log).not.toMatch(/bad input/);
  }, 120_000);
});
