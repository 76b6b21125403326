/**
 * One `twinfleet sim --shard K/N` as its own process, as a user starts it on a host: its exit code
 * and what it wrote to stderr. The two-shard test on one broker and the cluster tests share it.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { cliArgs } from "../../node/test/cli-command.js";

export interface ShardProcessSpec {
  readonly k: number;
  readonly of: number;
  readonly url: string;
  readonly nodes: number;
  readonly rate: number;
  readonly durationS: number;
  readonly settleS: number;
  readonly seed: string;
  /** The shard report is written here as `s<K>.json`. */
  readonly dir: string;
}

export function runShardProcess(s: ShardProcessSpec): Promise<{ code: number | null; stderr: string }> {
  const args = [
    ...cliArgs(),
    ...["sim", "--shard", `${s.k}/${s.of}`, "--broker", s.url],
    ...["--nodes", String(s.nodes), "--rate", String(s.rate)],
    ...["--duration", String(s.durationS), "--settle", String(s.settleS), "--workers", "0"],
    ...["--seed", s.seed, "--shard-report", join(s.dir, `s${s.k}.json`)],
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
