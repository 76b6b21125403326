/**
 * A virtual run split over worker threads, ended with Ctrl-C: the first SIGINT stops the presses in
 * every part, and the run settles and reports as usual. (A second one would cut the settle short, but
 * on virtual time the settle of a small fleet passes faster than a signal can be sent.)
 */
import { describe, expect, it } from "vitest";
import { spawnCli } from "./spawned-sim.js";

function start() {
  return spawnCli([
    ...["sim", "--clock", "virtual", "--headless", "--workers", "2"],
    // Far more presses than a test could wait for: the run is surely pressing when it is stopped.
    ...["--nodes", "40", "--rate", "60", "--duration", "86400", "--settle", "10"],
    ...["--progress-every", "60", "--seed", "quit"],
  ]);
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
