/**
 * A virtual run split over threads whose start throws (fleet/virtual-split.ts, its threads not made):
 * the run's failure, named, exit 1, and the start's lines (cli/start-lines.ts) end with it. They went
 * on every progress interval after the error, and kept the process alive to print them.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { VirtualSplitRun } from "../../fleet/virtual-split.js";
import { main } from "../main.js";

const argv = ["sim", "--clock", "virtual", "--nodes", "40", "--workers", "2", "--headless"];

describe("a split run whose start throws", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("ends the run with its error and exit code 1, and the start's lines with it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const start = vi.spyOn(VirtualSplitRun, "start").mockImplementation(() => {
      throw new Error("ERR_WORKER_INIT_FAILED: no thread");
    });
    const err: string[] = [];
    const code = await main([...argv, "--progress-every", "1"], {
      stdout: () => {},
      stderr: (s) => err.push(s),
    });
    expect(start).toHaveBeenCalledOnce();
    expect(code).toBe(1);
    expect(err.join("")).toContain(
      "twinfleet sim: cannot start the run over 2 worker threads: ERR_WORKER_INIT_FAILED: no thread\n",
    );
    // Ten progress intervals after the error: no start's line, no timer left to print one.
    const before = err.length;
    vi.advanceTimersByTime(10_000);
    expect(err.slice(before).join("")).not.toContain("starting (");
    expect(vi.getTimerCount()).toBe(0);
  });
});
