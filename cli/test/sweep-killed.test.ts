// `twinfleet sweep` killed before its end (kill -9, out of memory, a power cut) leaves the points it
// had finished in --out, written after each point and marked in progress, and `--resume` runs only
// the rest. Before, the files were written at the end only: a killed sweep left nothing to resume.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { renderHtml } from "../../sweep/html.js";
import { adjustScenario, loadScenario } from "../../sweep/scenario.js";
import { runSweep, type SweepReport } from "../../sweep/sweep.js";
import { main } from "../main.js";
import { spawnCli } from "./spawned-sim.js";

// Points of a few seconds each on virtual time: the second is still running when the first's line is seen.
const BIG = {
  name: "big",
  fleet: {
    ...{ nodes: 2000, seconds: 20, topology: "pairs", groupSize: 2, ratePerNodePerMin: 6 },
    ...{ profile: "ideal", seed: "killed", settleS: 1 },
  },
  loss: { levelsPct: [0, 10] },
};

const TINY = {
  name: "tiny",
  fleet: {
    ...{ nodes: 4, seconds: 3, topology: "pairs", groupSize: 2, ratePerNodePerMin: 60 },
    ...{ profile: "uno-w5100", seed: "checkpoint" },
  },
  loss: { levelsPct: [0, 10, 20] },
};

const read = (dir: string, name: string) => readFileSync(join(dir, name), "utf8");

describe("twinfleet sweep killed before its end", () => {
  it("leaves the points done in --out, marked in progress, and --resume runs the rest", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-killed-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, "big.json");
    writeFileSync(file, JSON.stringify(BIG));
    const out = join(root, "out");
    const args = ["sweep", "--clock", "virtual", "--scenario", file, "--out", out];
    const { child, seen, exited, err } = spawnCli(args);
    try {
      await seen(/^\[ 1\/2\] big: 0% loss/m);
      child.kill("SIGKILL");
      expect(await exited).toBe(null);
    } finally {
      child.kill("SIGKILL");
    }
    expect(err()).not.toMatch(/^\[ 2\/2\]/m);
    const killed = JSON.parse(read(out, "report.json")) as SweepReport;
    expect(killed.cutShort).toEqual({ done: 1, of: 2, inProgress: true });
    expect(killed.scenarios[0]?.loss?.map((p) => p.lossPct)).toEqual([0]);
    expect(read(out, "loss.csv").split("\n")[0]).toBe(
      "# CUT SHORT: 1 of 2 points run - written while the sweep ran (if it runs no more it was killed) - this file holds those only - twinfleet sweep --resume with the same flags runs the rest",
    );
    expect(read(out, "report.html")).toContain("In progress: 1 of 2 points run so far");

    const said: string[] = [];
    const io = { stdout: (s: string) => void said.push(s), stderr: (s: string) => void said.push(s) };
    expect(await main([...args, "--resume"], io)).toBe(0);
    expect(said.join("")).toContain("2 points, resumed: 1 kept (big: 0% loss), 1 to run from big: 10% loss");
    expect(said.join("").match(/^\[ ?\d+\/2\]/gm)).toEqual(["[ 2/2]"]);
    const whole = JSON.parse(read(out, "report.json")) as SweepReport;
    expect(whole.cutShort).toBeUndefined();
    expect(whole.scenarios[0]?.loss?.[0]).toEqual(killed.scenarios[0]?.loss?.[0]);
    expect(whole.scenarios[0]?.loss?.map((p) => p.lossPct)).toEqual([0, 10]);
  }, 120_000);

  it("hands the report of the points done to onCheckpoint after each point but the last", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-killed-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, "tiny.json");
    writeFileSync(file, JSON.stringify(TINY));
    const order: string[] = [];
    const checkpoints: SweepReport[] = [];
    const whole = await runSweep([adjustScenario(loadScenario(file), { quick: false })], {
      quick: false,
      clock: "virtual",
      onCheckpoint: (r) => {
        checkpoints.push(r);
        order.push(`checkpoint ${r.cutShort?.done}`);
      },
      onPoint: (p) => void order.push(`point ${p.index}`),
    });
    // Each before its point's line: once the line is out, the point is on disk.
    expect(order).toEqual(["checkpoint 1", "point 1", "checkpoint 2", "point 2", "point 3"]);
    expect(checkpoints.map((r) => r.cutShort)).toEqual([
      { done: 1, of: 3, inProgress: true },
      { done: 2, of: 3, inProgress: true },
    ]);
    // Each holds its points done, as the whole sweep has them, and no later one.
    expect(checkpoints[1]?.scenarios[0]?.loss).toEqual(whole.scenarios[0]?.loss?.slice(0, 2));
    expect(checkpoints[0]?.scenarios[0]?.loss).toHaveLength(1);
    expect(whole.cutShort).toBeUndefined();
    expect(renderHtml(whole)).not.toContain("In progress");
  });

  it("names the signal that stopped it when it was not Ctrl-C (SIGTERM: systemd, kill)", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-killed-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, "big.json");
    writeFileSync(file, JSON.stringify({ ...BIG, loss: { levelsPct: [0, 10, 20] } }));
    const out = join(root, "out");
    const {
      child,
      seen,
      exited,
      err,
      out: stdout,
    } = spawnCli([...["sweep", "--clock", "virtual", "--scenario", file, "--out", out]]);
    try {
      await seen(/^\[ 1\/3\] big: 0% loss/m);
      child.kill("SIGTERM");
      expect(await exited, err()).toBe(130);
    } finally {
      child.kill("SIGKILL");
    }
    expect(err()).toContain(
      "twinfleet sweep: SIGTERM: stopping after the point under way; its files will hold the points done (SIGTERM or Ctrl-C again: stop now, the files as the last point done wrote them)",
    );
    // It used to say Ctrl-C, which nobody had pressed.
    expect(stdout()).toContain("CUT SHORT: 2 of 3 points run (SIGTERM); the tables hold those only");
    expect(JSON.parse(read(out, "report.json")).cutShort).toEqual({ done: 2, of: 3, signal: "SIGTERM" });
    expect(read(out, "loss.csv").split("\n")[0]).toContain("2 of 3 points run - stopped (SIGTERM) -");
    expect(read(out, "report.html")).toContain("Cut short (SIGTERM): 2 of 3 points run");
  }, 120_000);

  it("says, when its files cannot be written at its end, which points --out holds for --resume", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-killed-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, "tiny.json");
    writeFileSync(file, JSON.stringify(TINY));
    const out = join(root, "out");
    // The page cannot be written (a directory has its name); report.json and the CSVs can.
    mkdirSync(join(out, "report.html"), { recursive: true });
    const args = ["sweep", "--clock", "virtual", "--scenario", file, "--out", out];
    const said: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => void said.push(s) };
    expect(await main(args, io)).toBe(1);
    const err = said.join("");
    // Said once, after the first point, and the sweep went on.
    expect(err.match(/cannot write the points done so far/g)).toHaveLength(1);
    expect(err).toMatch(/^\[ 3\/3\]/m);
    expect(err).toContain(
      `${join(out, "report.json")} holds the 3 points done: once --out can be written, twinfleet sweep --resume with the same flags runs no point and writes every file`,
    );
    rmSync(join(out, "report.html"), { recursive: true });
    said.length = 0;
    expect(await main([...args, "--resume"], io)).toBe(0);
    expect(said.join("")).toContain("resumed: 3 kept (tiny: 0% loss … tiny: 20% loss), nothing left to run");
    expect(read(out, "report.html")).toContain("<h1>twinfleet sweep</h1>");
  });
});
