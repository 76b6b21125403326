/**
 * Whether a headless virtual run goes over worker threads (cli/commands/sim-split.ts): by default
 * only when every part gets MIN_DEFAULT_PART_NODES nodes; --workers given is taken as asked. One that
 * stays in one thread must fit its heap.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../console/test/tmux.js";
import { cliArgs } from "../../node/test/cli-command.js";
import { chooseVirtualSplit, MIN_DEFAULT_PART_NODES, oneThreadHeap } from "../commands/sim-split.js";

function choose(nodes: number, workers: number, given: boolean) {
  const notes: string[] = [];
  const split = chooseVirtualSplit({ clock: "virtual", nodes, workers }, false, given, (l) => notes.push(l));
  return { parts: split?.ranges.length ?? 1, notes };
}

describe("the virtual split's default", () => {
  it("keeps a fleet too small for two parts in one thread, without a note", () => {
    expect(choose(300, 4, false)).toEqual({ parts: 1, notes: [] });
    expect(choose(2 * MIN_DEFAULT_PART_NODES - 8, 4, false)).toEqual({ parts: 1, notes: [] });
  });

  it("gives each part at least the minimum, up to the threads it may use", () => {
    expect(choose(2 * MIN_DEFAULT_PART_NODES, 4, false).parts).toBe(2);
    expect(choose(3 * MIN_DEFAULT_PART_NODES, 4, false).parts).toBe(3);
    expect(choose(40 * MIN_DEFAULT_PART_NODES, 4, false).parts).toBe(4);
    expect(choose(40 * MIN_DEFAULT_PART_NODES, 1, false).parts).toBe(1);
  });

  it("splits a small fleet when --workers asks for it", () => {
    expect(choose(40, 2, true).parts).toBe(2);
    expect(choose(40, 0, true).parts).toBe(1);
  });
});

describe("a virtual run in one thread and its heap", () => {
  const GB = 2 ** 30;
  it("says nothing while the fleet takes under three quarters of the heap", () => {
    expect(oneThreadHeap(100_000, 4 * GB)).toBeUndefined();
  });

  it("warns near the limit and refuses past it, naming --nodes and what to do", () => {
    const near = oneThreadHeap(150_000, 4 * GB);
    expect(near?.fatal).toBe(false);
    expect(near?.text).toMatch(
      /^150000 nodes in one thread need about 3\.4 GB of heap, near this process's 4\.0 GB/,
    );
    const over = oneThreadHeap(200_000, 4 * GB);
    expect(over?.fatal).toBe(true);
    expect(over?.text).toMatch(/^--nodes: 200000 nodes in one thread need about 4\.6 GB of heap, more than/);
    expect(over?.text).toContain("NODE_OPTIONS=--max-old-space-size=7168");
  });

  it("refuses before anything starts, exit 2, in a process whose heap is too small", () => {
    const r = spawnSync(
      process.execPath,
      [
        "--max-old-space-size=200",
        ...cliArgs(),
        "sim",
        "--clock",
        "virtual",
        "--nodes",
        "20000",
        "--workers",
        "0",
        "--headless",
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/twinfleet sim: --nodes: 20000 nodes in one thread need about 0\.5 GB of heap/);
    expect(r.stdout).toBe("");
  }, 60_000);
});
