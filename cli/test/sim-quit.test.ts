/**
 * `twinfleet sim --headless` as a process, ended with Ctrl-C (SIGINT) the way a user ends it: the
 * first stops the presses and says the run settles, whose progress lines count down; the second
 * ends it at once, with the summary marked cut short and exit code 130. SIGTERM (how systemd and
 * Kubernetes stop a job) ends it at once, its report written. SIGKILL (a power cut) writes nothing:
 * the report's path holds the run's mark, not an earlier run's report.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { UNFINISHED_KIND } from "../../fleet/report-unfinished.js";
import { main } from "../main.js";
import { spawnCli } from "./spawned-sim.js";

describe("twinfleet sim, ended with Ctrl-C", () => {
  it("settles with a countdown after the first SIGINT and is cut short by the second", async () => {
    const { child, seen, exited, out, err } = spawnCli([
      "sim",
      "--headless",
      ...["--nodes", "2", "--group-size", "2", "--profile", "ideal", "--rate", "0", "--workers", "1"],
      ...["--duration", "600", "--settle", "60", "--progress-every", "1"],
    ]);
    try {
      await seen(/press \]/);
      child.kill("SIGINT");
      await seen(/presses stopped; settling before the report \(Ctrl-C again: stop now/);
      await seen(/settle\s*\].*settling: \d+ s left/);
      const left = Number(/settling: (\d+) s left/.exec(err())?.[1]);
      expect(left).toBeGreaterThan(40);
      expect(left).toBeLessThanOrEqual(60);
      const cutAt = Date.now();
      child.kill("SIGINT");
      const code = await exited;
      expect(Date.now() - cutAt).toBeLessThan(15_000);
      expect(code).toBe(130);
      expect(err()).toContain("cut short: writing the report with what is known");
      // The press line comes as the start is sent, 200 ms before the first press is due: a Ctrl-C
      // in between stops them before they began.
      expect(out()).toMatch(
        /STOPPED EARLY {2}the presses were stopped (after [\d.]+ s of 600 s|before they began)/,
      );
      expect(out()).toContain("CUT SHORT      the settle was stopped after");
      expect(out()).toMatch(/registration\s+2\/2/);
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);

  it("is cut short at once by SIGTERM, its report written and marked so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-term-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const report = join(dir, "r.json");
    const { child, seen, exited, out, err } = spawnCli([
      "sim",
      "--headless",
      ...["--nodes", "2", "--group-size", "2", "--profile", "ideal", "--rate", "0", "--workers", "1"],
      ...["--duration", "600", "--settle", "60", "--progress-every", "1", "--report", report],
    ]);
    try {
      await seen(/press \]/);
      child.kill("SIGTERM");
      const code = await exited;
      expect(code).toBe(130);
      expect(err()).toContain("SIGTERM: cut short: writing the report with what is known");
      // Cut in the presses: no settle began, none is timed or said stopped (it read `the settle was
      // stopped after 0.3 s`, the time the run took to end).
      expect(out()).toContain("CUT SHORT      the run ended in its presses, before its settle: deliveries");
      expect(JSON.parse(readFileSync(report, "utf8"))).toMatchObject({
        cutShort: true,
        cutBefore: "settle",
        sim: { settleS: 0 },
      });
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);

  it("leaves its mark at the report's path when killed with SIGKILL, not an earlier run's report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-kill-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const report = join(dir, "r.json");
    writeFileSync(report, '{"an earlier run\'s report": true}\n');
    const { child, seen, exited } = spawnCli([
      "sim",
      "--headless",
      ...["--nodes", "2", "--group-size", "2", "--profile", "ideal", "--rate", "0", "--workers", "1"],
      ...["--duration", "600", "--settle", "60", "--progress-every", "1", "--report", report],
    ]);
    try {
      await seen(/press \]/);
      child.kill("SIGKILL");
      await exited;
      expect(JSON.parse(readFileSync(report, "utf8"))).toMatchObject({
        kind: UNFINISHED_KIND,
        pid: child.pid,
      });
      const err: string[] = [];
      const io = { stdout: () => {}, stderr: (s: string) => err.push(s), env: {} };
      expect(await main(["report", "show", report], io)).toBe(1);
      expect(err.join("")).toContain(
        `holds no report: the twinfleet sim run writing it (pid ${child.pid} on `,
      );
      expect(err.join("")).toContain("killed without a goodbye (kill -9, a power cut, the OOM killer)");
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);
});
