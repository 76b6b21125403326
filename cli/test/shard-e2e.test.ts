// A fleet split in two, as users run it: two `twinfleet sim --shard K/2` processes against one
// broker (on port 0), each writing its shard report, then `twinfleet report merge`. Every node
// registers, each shard ran only its own nodes, their presses are the ones the seed gives each node
// (less those the board's button debounce ignores), the merged counts are the shards' sums and every
// pair — most of them across shards — arrived.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import type { MergedReport } from "../../fleet/report.js";
import { plannedPresses } from "../../fleet/shard-plan.js";
import { readShardFile } from "../../fleet/shard-report.js";
import { loadProfile } from "../../node/profile.js";
import { RealScheduler } from "../../node/scheduler.js";
import { VERSION } from "../../node/version.js";
import type { NodeId } from "../../protocol/index.js";
import { main } from "../main.js";
import { runShardProcess } from "./shard-process.js";

const NODES = 16;
const RATE = 30;
const DURATION_S = 4;
/** The board's button debounce: a planned press within it of the last one taken is ignored (n-0010's 21.6 ms). */
const DEBOUNCE_MS = loadProfile("uno-w5100").sketch.debounceMs;
/**
 * The lag monitors' sampling period (fleet/lag.ts, sim/worker.ts): a stall shows in a shard's
 * `lagMaxMs` as the time between two samples, to within one period.
 */
const LAG_SAMPLE_MS = 10;

/**
 * What the board must have done with a node's planned presses whatever their timers' lateness, when
 * each fired late by `lateMs` at most (the presses of a node are timed one after the other, so in
 * plan order): a press is surely taken when it comes at least the debounce plus `lateMs` after the
 * one before it (the first always is), and surely ignored when it comes within the debounce less
 * `lateMs` after one surely taken. On fake time (`lateMs` 0) that is every press, as planned.
 */
function surely(planned: readonly number[], lateMs: number): { taken: number; ignored: number } {
  let taken = 0;
  let ignored = 0;
  let lastTaken = false;
  for (const [i, t] of planned.entries()) {
    const gap = i === 0 ? Number.POSITIVE_INFINITY : t - (planned[i - 1] as number);
    const isTaken = gap >= DEBOUNCE_MS + lateMs;
    if (isTaken) taken++;
    else if (lastTaken && gap + lateMs < DEBOUNCE_MS) ignored++;
    lastTaken = isTaken;
  }
  return { taken, ignored };
}

let dir: string;
let broker: BrokerHost;

function shardProcess(k: number): Promise<{ code: number | null; stderr: string }> {
  const spec = { of: 2, url: broker.url, nodes: NODES, rate: RATE, durationS: DURATION_S, settleS: 2 };
  return runShardProcess({ ...spec, k, seed: "e2e", dir });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tf-shards-"));
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("two shards as processes on one broker, merged", () => {
  it("runs each shard's own nodes and merges them into one fleet report", async () => {
    const runs = await Promise.all([shardProcess(1), shardProcess(2)]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const files = [1, 2].map((k) => readShardFile(join(dir, `s${k}.json`)));
    const [s1, s2] = files as [ReturnType<typeof readShardFile>, ReturnType<typeof readShardFile>];
    expect(s1.fleet.fingerprint).toBe(s2.fleet.fingerprint);
    // Each names the build that ran it, which the merge checks is one.
    expect([s1.build, s2.build]).toEqual([VERSION, VERSION]);
    expect(s1.nodes).toEqual([
      "n-0000",
      "n-0002",
      "n-0004",
      "n-0006",
      "n-0008",
      "n-0010",
      "n-0012",
      "n-0014",
    ]);
    expect(new Set([...s1.nodes, ...s2.nodes]).size).toBe(NODES);
    for (const f of files) {
      expect(Object.keys(f.registrationMs).sort()).toEqual([...f.nodes].sort());
      // Read off the broker: its nodes known, online and paired as the fleet says.
      expect(f.twinsView).toMatchObject({ known: NODES / 2, online: NODES / 2, desiredAsPaired: NODES / 2 });
      // Only its own nodes pressed, at the times the seed gives each of them.
      const own = new Set(f.nodes);
      const byNode = new Map<string, number[]>();
      for (const [node, stamp, at] of f.presses) {
        expect(own.has(node)).toBe(true);
        expect(stamp).not.toBeNull();
        byNode.set(node, [...(byNode.get(node) ?? []), at - f.pressStartMs]);
      }
      // Each press taken is one the seed planned, in order, never early and late by no more than the
      // shard's own worst event-loop stall (its timers wait as long as its loop does: a busy host held
      // one for over a second), measured by the run itself (its lag monitor samples every 10 ms); the
      // board ignored the others (its debounce, counted apart), so the two together are every planned
      // press of the shard's nodes. Before, a fixed second was allowed, which a press on a host at
      // load average 8 once passed; at load average 10-29 the latest press found was 599 ms late, with
      // 641 ms the run's worst stall (each of 29 shard reports within its own).
      const lateMs = f.sim.lagMaxMs + LAG_SAMPLE_MS;
      let planned = 0;
      let surelyIgnored = 0;
      for (const node of f.nodes) {
        const plan = plannedPresses("e2e", node as NodeId, RATE, DURATION_S * 1000);
        planned += plan.length;
        const must = surely(plan, lateMs);
        surelyIgnored += must.ignored;
        const times = byNode.get(node) ?? [];
        expect(times.length).toBeGreaterThanOrEqual(must.taken);
        expect(times.length).toBeLessThanOrEqual(plan.length - must.ignored);
        let next = 0;
        for (const [i, t] of times.entries()) {
          while (next < plan.length && (plan[next] as number) + lateMs < t) next++;
          expect(
            plan[next],
            `${node}'s press at ${t} ms (timers late by ${lateMs} ms at most)`,
          ).toBeDefined();
          expect(t).toBeGreaterThan((plan[next] as number) - 5);
          if (i > 0) expect(t - (times[i - 1] as number)).toBeGreaterThanOrEqual(DEBOUNCE_MS);
          next++;
        }
      }
      expect(f.presses.length + (f.counts.pressesIgnored ?? 0)).toBe(planned);
      expect(f.counts.pressesIgnored ?? 0).toBeGreaterThanOrEqual(surelyIgnored);
      expect(f.probes.received["1"]?.count ?? 0).toBeGreaterThan(0);
      expect(f.probes.received["2"]?.count ?? 0).toBeGreaterThan(0);
    }

    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ["report", "merge", join(dir, "s1.json"), join(dir, "s2.json"), "--out", join(dir, "fleet.json")],
      {
        stdout: (s) => out.push(s),
        stderr: (s) => err.push(s),
      },
    );
    expect(code, err.join("")).toBe(0);
    const merged = JSON.parse(readFileSync(join(dir, "fleet.json"), "utf8")) as MergedReport;
    expect(merged.presses).toBe(s1.counts.presses + s2.counts.presses);
    expect(merged.pressesIgnored).toBe((s1.counts.pressesIgnored ?? 0) + (s2.counts.pressesIgnored ?? 0));
    // The seed plans a press inside the debounce (each shard ignored it unless a stall of its host's
    // could have spread the two out: checked above); a timer a busy host held late can add others.
    const inDebounce = [...s1.nodes, ...s2.nodes].map((n) =>
      plannedPresses("e2e", n as NodeId, RATE, DURATION_S * 1000),
    );
    expect(inDebounce.reduce((sum, plan) => sum + surely(plan, 0).ignored, 0)).toBeGreaterThanOrEqual(1);
    expect(merged.presses).toBeGreaterThan(0);
    // Rings of 8 without loss: every press reaches the 7 others of its ring, within a second.
    expect(merged.deliveries).toBe(merged.presses * 7);
    expect(merged.shards.lines.reduce((n, l) => n + l.deliveries, 0)).toBe(merged.deliveries);
    expect(merged.lost).toBe(0);
    // Every pair within the 5 s a delivery counts as lost after (lost 0 above): the paper's 1 s is
    // a benchmark's figure on real time, which a loaded host moves (p99 1.5 s at load average 12).
    expect(merged.sync.p99Ms).toBeGreaterThan(0);
    expect(merged.sync.maxMs).toBeLessThan(5000);
    expect(merged.shards.crossShardPairs).toBeGreaterThan(merged.deliveries / 2);
    expect(merged.registration.registered).toBe(NODES);
    expect(merged.diverged).toBe(0);
    // One host: the true offset is 0, so the measured one is within its uncertainty of 0, but for
    // each process's error in finding its clock's date (node/wall-origin.ts), which each shard states
    // (`originUncertaintyMs`, proved by its reads: 0.025 ms unless its thread was held off its core
    // through 200 turns of the wall clock). Before, the median of five turns could be 11.7 ms out
    // under a clean-clone CI run's load (measured so, uncertainty 0.7 ms); and a thread held past the
    // watch's limit inside its first turn gave a clock hundreds of ms off (262 ms measured), stated
    // so, which this check left out: shard 2 came out at +20.0 ms ± 0.9 ms. 0.005 ms for rounding.
    const [o1, o2] = merged.shards.lines;
    expect(o2?.offsetUncertaintyMs).not.toBeNull();
    const origins = (o1?.originUncertaintyMs ?? Number.NaN) + (o2?.originUncertaintyMs ?? Number.NaN);
    expect(Math.abs(o2?.offsetMs ?? Number.NaN)).toBeLessThanOrEqual(
      (o2?.offsetUncertaintyMs ?? 0) + origins + 0.005,
    );
    const text = out.join("");
    expect(text).toContain(`${NODES} nodes (uno-w5100), ring`);
    expect(text).toMatch(/shard 2 +8 nodes on .*: \d+ presses/);
  }, 90_000);
});
