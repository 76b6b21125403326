/**
 * `twinfleet sweep` as a process, stopped at once by a second Ctrl-C during a fault case whose broker
 * keeps its store on disk: exit code 130, nothing written, and no store left in the temporary directory.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { spawnCli } from "./spawned-sim.js";

const scenario = {
  name: "durable",
  fleet: {
    ...{ nodes: 4, seconds: 60, topology: "pairs", groupSize: 2, ratePerNodePerMin: 30 },
    ...{ profile: "ideal", seed: "quit", settleS: 1 },
  },
  faults: { cases: [{ name: "durable restart", schedule: "broker-restart@30", brokerData: true }] },
};

describe("twinfleet sweep, stopped at once by a second Ctrl-C", () => {
  it("leaves no broker store of a fault case in the temporary directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-sweep-quit-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    // The sweep's temporary directory, of this test alone: its stores are looked for there.
    const ownTmp = join(dir, "tmp");
    mkdirSync(ownTmp);
    const file = join(dir, "durable.json");
    writeFileSync(file, JSON.stringify(scenario));
    const out = join(dir, "out");
    const { child, seen, exited, err } = spawnCli(
      ["sweep", "--scenario", file, "--out", out, "--workers", "0"],
      { ...process.env, TMPDIR: ownTmp },
    );
    try {
      await seen(/twinfleet sweep: durable/);
      await expect
        .poll(() => readdirSync(ownTmp).filter((f) => f.startsWith("twinfleet-sweep-broker-")))
        .toHaveLength(1);
      child.kill("SIGINT");
      await seen(/stopping after the point under way/);
      child.kill("SIGINT");
      expect(await exited, err()).toBe(130);
      expect(readdirSync(ownTmp)).toEqual([]);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]); // nothing written
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);
});
