// One fleet split over processes on a 3-member NATS cluster, as the shard benchmark runs it at scale:
// three `twinfleet sim --shard K/3` processes, shard K on member K, rings of 8 whose pairs cross
// shards and members, then `twinfleet report merge`. The merged presses and deliveries are the
// shards' sums, every press reached its whole ring (nothing lost), p99 under 1 s, and every shard
// ran the same fleet.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import type { MergedReport } from "../../fleet/report.js";
import { readShardFile } from "../../fleet/shard-report.js";
import { type NatsCluster, startCluster } from "../cluster.js";

const CLI = new URL("../../cli/bin.ts", import.meta.url).pathname;
const SHARDS = 3;
const NODES = 24;

let cluster: NatsCluster;
let dir: string;
beforeAll(async () => {
  cluster = await startCluster({ members: 3 });
  dir = mkdtempSync(join(tmpdir(), "tf-cluster-shards-"));
});
afterAll(async () => {
  await cluster?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function shard(k: number): Promise<{ code: number | null; stderr: string }> {
  const args = [
    "--import",
    "tsx",
    CLI,
    "sim",
    "--shard",
    `${k}/${SHARDS}`,
    "--broker",
    cluster.urls[k - 1] as string,
    "--nodes",
    String(NODES),
    "--rate",
    "20",
    "--duration",
    "5",
    "--settle",
    "3",
    "--workers",
    "0",
    "--seed",
    "cluster-shards",
    "--shard-report",
    join(dir, `s${k}.json`),
  ];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    p.on("error", reject);
    p.on("exit", (code) => resolve({ code, stderr }));
  });
}

describe("shards on the members of a NATS cluster", () => {
  it("merge into one fleet: the shards' sums, nothing lost, pairs across members", async () => {
    const runs = await Promise.all([1, 2, 3].map((k) => shard(k)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const files = [1, 2, 3].map((k) => join(dir, `s${k}.json`));
    const parts = files.map((f) => readShardFile(f));
    expect(new Set(parts.map((p) => p.fleet.fingerprint)).size).toBe(1);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["report", "merge", ...files, "--out", join(dir, "fleet.json")], {
      stdout: (s) => out.push(s),
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
    expect(merged.sync.p99Ms).toBeLessThan(1000);
    expect(merged.registration.registered).toBe(NODES);
    // Shard K runs the nodes at index ≡ K−1 (mod 3), on member K: in a ring of 8, 42 of the 56
    // ordered pairs are in different shards (and on different members).
    expect(merged.shards.crossShardPairs).toBeGreaterThan(merged.deliveries * 0.6);
    expect(merged.shards.crossShardPairs).toBeLessThan(merged.deliveries);
  }, 120_000);
});
