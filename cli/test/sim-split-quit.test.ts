/**
 * A virtual run split over worker threads, ended with Ctrl-C: the first SIGINT stops the presses in
 * every part, and the run settles and reports as usual. (A second one would cut the settle short, but
 * on virtual time the settle of a small fleet passes faster than a signal can be sent.)
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../console/test/tmux.js";

function start() {
  const child = spawn(
    process.execPath,
    [
      ...["--import", "tsx", "cli/bin.ts", "sim", "--clock", "virtual", "--headless", "--workers", "2"],
      // Far more presses than a test could wait for: the run is surely pressing when it is stopped.
      ...["--nodes", "40", "--rate", "60", "--duration", "86400", "--settle", "10"],
      ...["--progress-every", "60", "--seed", "quit"],
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  const waiters: { test: RegExp; resolve: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.splice(0)) {
      if (w.test.test(err)) w.resolve();
      else waiters.push(w);
    }
  });
  const seen = (test: RegExp) =>
    new Promise<void>((resolve) => (test.test(err) ? resolve() : waiters.push({ test, resolve })));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, seen, exited, out: () => out, err: () => err };
}

describe("a virtual run over worker threads, ended with Ctrl-C", () => {
  it("settles and reports after the first SIGINT", async () => {
    const run = start();
    try {
      await run.seen(/virtual time over 2 worker threads/);
      await run.seen(/press \]/);
      run.child.kill("SIGINT");
      expect(await run.exited).toBe(0);
      expect(run.err()).toContain("presses stopped; settling before the report");
      expect(run.out()).toMatch(/40 nodes \(uno-w5100\)/);
      expect(run.out()).toMatch(/registration\s+40\/40/);
      expect(run.out()).not.toContain("CUT SHORT");
    } finally {
      run.child.kill("SIGKILL");
    }
  }, 90_000);
});
