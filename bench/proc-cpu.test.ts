/**
 * The benchmarks' process sampler (bench/proc-cpu.ts): CPU seconds and RSS of the processes added.
 */
import { describe, expect, it } from "vitest";
import { cpuSeconds, ProcSampler, rssMB } from "./proc-cpu.js";

describe("proc-cpu", () => {
  it("counts the CPU a process spends after it is added, and its RSS", () => {
    const procs = new ProcSampler(60_000);
    procs.add("self", process.pid);
    // Busy until this process has used 300 ms more CPU (by its own count, whatever the host's load).
    const start = process.cpuUsage();
    let x = 0;
    for (;;) {
      const d = process.cpuUsage(start);
      if (d.user + d.system >= 300_000) break;
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    }
    const used = procs.stop();
    expect(x).toBeGreaterThan(0);
    // /proc counts in 10 ms ticks.
    expect(used.self?.cpuS).toBeGreaterThanOrEqual(0.25);
    expect(used.self?.maxRssMB).toBeGreaterThan(10);
  });

  it("answers undefined for a process that is not there, and leaves it out", () => {
    // Linux pids stay below 2^22.
    const gone = 2 ** 23;
    expect(cpuSeconds(gone)).toBeUndefined();
    expect(rssMB(gone)).toBeUndefined();
    const procs = new ProcSampler(60_000);
    procs.add("gone", gone);
    expect(procs.stop()).toEqual({});
  });
});
