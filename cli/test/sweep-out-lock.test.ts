// Two sweeps into one --out: the second is refused (exit 2, before any point, naming the first's pid)
// while the first runs, instead of both writing their files there after every point and the last to
// end keeping its own (both said "wrote sweep-report/report.json …", exit 0). The hold ends with the
// sweep; one left by a sweep killed (kill -9) is taken over, one of another host is not.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { main } from "../main.js";
import { SWEEP_LOCK } from "../sweep-out-lock.js";
import { spawnCli } from "./spawned-sim.js";

// Points of a few seconds each on virtual time: the sweep still runs when its first line is seen.
const BIG = {
  name: "big",
  fleet: {
    ...{ nodes: 2000, seconds: 20, topology: "pairs", groupSize: 2, ratePerNodePerMin: 6 },
    ...{ profile: "ideal", seed: "held", settleS: 1 },
  },
  loss: { levelsPct: [0, 10] },
};

const TINY = {
  name: "tiny",
  fleet: {
    ...{ nodes: 4, seconds: 3, topology: "pairs", groupSize: 2, ratePerNodePerMin: 60 },
    ...{ profile: "uno-w5100", seed: "held" },
  },
  loss: { levelsPct: [0] },
};

async function sweep(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(["sweep", "--clock", "virtual", ...args], {
    stdout: () => {},
    stderr: (s: string) => void err.push(s),
  });
  return { code, err: err.join("") };
}

describe("twinfleet sweep's hold on --out", () => {
  it("refuses a second sweep into the --out of one running, and takes over one left by a killed sweep", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-lock-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const big = join(root, "big.json");
    const tiny = join(root, "tiny.json");
    writeFileSync(big, JSON.stringify(BIG));
    writeFileSync(tiny, JSON.stringify(TINY));
    const out = join(root, "out");
    const first = ["--scenario", big, "--out", out];
    const { child, seen, exited } = spawnCli(["sweep", "--clock", "virtual", ...first]);
    try {
      await seen(/^twinfleet sweep: big/m);
      // Another scenario into the same --out, and a --resume of the sweep that still runs.
      for (const args of [
        ["--scenario", tiny, "--out", out],
        [...first, "--resume"],
      ]) {
        const r = await sweep(args);
        expect(r.code).toBe(2);
        expect(r.err).toContain(
          `twinfleet sweep: --out: ${out} is in use by another twinfleet sweep (pid ${child.pid}, ${join(out, SWEEP_LOCK)}): two sweeps writing one --out replace each other's files after every point; wait for it to end, or give this one another --out`,
        );
        expect(r.err).not.toMatch(/^\[/m);
      }
      await seen(/^\[ 1\/2\] big/m);
      child.kill("SIGKILL");
      await exited;
    } finally {
      child.kill("SIGKILL");
    }
    // The first sweep's point, untouched by the refused ones.
    expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8")).scenarios[0].name).toBe("big");
    expect(existsSync(join(out, SWEEP_LOCK))).toBe(true); // left by the kill
    const resumed = await sweep([...first, "--resume"]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toContain("resumed: 1 kept (big: 0% loss), 1 to run");
    expect(existsSync(join(out, SWEEP_LOCK))).toBe(false); // let go at its end
  }, 120_000);

  it("refuses a hold of another host, naming it, and lets go after a refused --resume", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-lock-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const tiny = join(root, "tiny.json");
    writeFileSync(tiny, JSON.stringify(TINY));
    const out = join(root, "out");
    const lock = join(out, SWEEP_LOCK);
    expect((await sweep(["--scenario", tiny, "--out", out])).code).toBe(0);
    expect(existsSync(lock)).toBe(false);
    writeFileSync(lock, `4242 \nhost ${hostname()}-other\n`);
    const r = await sweep(["--scenario", tiny, "--out", out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `(pid 4242 on ${hostname()}-other, ${lock}): two sweeps writing one --out replace each other's files after every point; wait for it to end, or give this one another --out (if it runs no more, remove ${lock})`,
    );
    rmSync(lock);
    // A --resume refused for its report lets go of --out all the same.
    const refused = await sweep(["--scenario", tiny, "--out", out, "--resume", "--nodes", "6"]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("is another sweep");
    expect(existsSync(lock)).toBe(false);
  });
});
