// `npm run bench -- shards --cluster` stopped by a signal stops the cluster it started, and waits for
// it, before it exits with 130: the NATS members, or Redis and the brokers sharing it, used to outlive
// it (SIGHUP: the members take it for a reload; a signal while the cluster started: nothing stopped it).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";

const RUN = fileURLToPath(new URL("../../bench/run.ts", import.meta.url));
const homes: string[] = [];
afterEach(() => {
  for (const pid of mentioning(homes)) process.kill(pid, "SIGKILL");
  for (const d of homes.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Processes (not zombies) whose command line mentions one of `dirs`. */
function mentioning(dirs: readonly string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd !== "" && dirs.some((d) => cmd.includes(d))) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

it("stops the NATS cluster it started before it exits, on SIGTERM while the cluster starts", async () => {
  const home = mkdtempSync(join(tmpdir(), "tf-bench-stop-"));
  homes.push(home);
  const args = ["shards", "--cluster", "--shards", "1", "--nodes", "4", "--duration", "30"];
  const child = spawn(process.execPath, ["--import", "tsx", RUN, ...args], {
    env: { ...process.env, TMPDIR: home },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // The members run with their config in the cluster's directory under TMPDIR.
  const deadline = Date.now() + 60_000;
  while (mentioning([home]).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(mentioning([home]).length, err).toBeGreaterThanOrEqual(3);
  child.kill("SIGTERM");
  expect(await done, err).toBe(130);
  expect(mentioning([home])).toEqual([]);
  // The bench's and the cluster's directories (tsx keeps its cache there too).
  expect(readdirSync(home).filter((f) => /^(tf-|twinfleet-)/.test(f))).toEqual([]);
}, 120_000);
