/**
 * One fleet split over three `twinfleet sim --shard K/3` processes, shard K on broker K, then
 * `twinfleet report merge`: what the shard tests on a NATS cluster and on brokers sharing Redis run,
 * and what they check of the merged report (the shards' sums, nothing lost, pairs across brokers).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { main } from "../../cli/main.js";
import { runShardProcess } from "../../cli/test/shard-process.js";
import type { MergedReport } from "../../fleet/report.js";
import { readShardFile } from "../../fleet/shard-report.js";

const SHARDS = 3;
const NODES = 24;

/** Runs shard K on `urls[K−1]`, merges the three reports and checks the merged fleet. */
export async function shardsMergeIntoOneFleet(urls: readonly string[], seed: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tf-shards-"));
  try {
    const ks = [1, 2, 3];
    const runs = await Promise.all(
      ks.map((k) =>
        runShardProcess({
          k,
          of: SHARDS,
          url: urls[k - 1] as string,
          nodes: NODES,
          rate: 20,
          durationS: 5,
          settleS: 3,
          seed,
          dir,
        }),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const files = ks.map((k) => join(dir, `s${k}.json`));
    const parts = files.map((f) => readShardFile(f));
    expect(new Set(parts.map((p) => p.fleet.fingerprint)).size).toBe(1);
    const err: string[] = [];
    const code = await main(["report", "merge", ...files, "--out", join(dir, "fleet.json")], {
      stdout: () => {},
      stderr: (s) => err.push(s),
    });
    expect(code, err.join("")).toBe(0);
    const merged = JSON.parse(readFileSync(join(dir, "fleet.json"), "utf8")) as MergedReport;
    expect(merged.presses).toBe(parts.reduce((n, p) => n + p.counts.presses, 0));
    expect(merged.presses).toBeGreaterThan(0);
    expect(merged.shards.lines.reduce((n, l) => n + l.deliveries, 0)).toBe(merged.deliveries);
    // Rings of 8: every press reaches the 7 others of its ring.
    expect(merged.deliveries).toBe(merged.presses * 7);
    expect(merged.lost).toBe(0);
    // Under 1 s, or on a host too busy for that, under three times the same run's echo p99: each node's
    // own report from its publish until it reads it back, which takes the same hops (node → its
    // broker → Redis or the NATS cluster → its broker → node) on the same host at the same moment.
    // A host that slows everything slows both; a path between brokers that is slow itself (a broker
    // late to deliver what another broker published) slows the sync alone, and fails this.
    const { p99Ms } = merged.sync;
    const echoP99Ms = merged.shards.echo.p99Ms;
    const limitMs = Math.max(1000, 3 * echoP99Ms);
    console.log(`${seed}: sync p99 ${p99Ms} ms, echo p99 ${echoP99Ms} ms, limit ${limitMs} ms`);
    expect(p99Ms, `sync p99 ${p99Ms} ms, echo p99 ${echoP99Ms} ms`).toBeLessThan(limitMs);
    expect(merged.registration.registered).toBe(NODES);
    // Shard K runs the nodes at index ≡ K−1 (mod 3), on broker K: in a ring of 8, 42 of the 56
    // ordered pairs are in different shards (and on different brokers).
    expect(merged.shards.crossShardPairs).toBeGreaterThan(merged.deliveries * 0.6);
    expect(merged.shards.crossShardPairs).toBeLessThan(merged.deliveries);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
