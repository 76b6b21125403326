/**
 * One `twinfleet sim --shard K/N` as its own process, as a user starts it on a host: its exit code
 * and what it wrote to stderr. The two-shard test on one broker and the cluster tests share it. One
 * that runs past its limit is stopped, and its stderr says so: a shard of the NATS cluster test once
 * ran past the test's 120 s (23-26 s in every other run) and the failure said nothing of where it stood.
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
  /** A shard still running this long is stopped (SIGTERM, then SIGKILL 10 s later), its stderr kept. */
  readonly limitMs?: number;
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
    // A shard that hangs fails its test with what it had written, not as the test's own timeout.
    const limitMs = s.limitMs ?? 80_000;
    const kill = setTimeout(() => {
      stderr += `\n[shard ${s.k}/${s.of} still running after ${limitMs / 1000} s: sent SIGTERM]`;
      p.kill("SIGTERM");
      setTimeout(() => p.kill("SIGKILL"), 10_000).unref();
    }, limitMs);
    p.on("error", reject);
    p.on("exit", (code) => {
      clearTimeout(kill);
      resolve({ code, stderr });
    });
  });
}
