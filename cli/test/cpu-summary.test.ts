// The modeled CPU figures of a long, quiet run: an idle Uno is busy about 0.002 % of the time
// (keepalive alone, docs/device-model.md "Modeled CPU utilization"). Gathered at 0.01 % steps and
// printed to 0.1 %, a day of it read `cpu mean 0.0 %` in the summary and 0 in the report, as if the
// nodes did nothing.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { main } from "../main.js";
import { cpuPct } from "../sim-summary.js";

describe("the summary's and report's cpu figures", () => {
  it("give a day of an idle fleet's keepalive, not 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-cpu-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "r.json");
    const out: string[] = [];
    const args = ["sim", "--clock", "virtual", "--headless", "--nodes", "2", "--rate", "0"];
    const code = await main([...args, "--duration", "86400", "--settle", "1", "--report", file], {
      stdout: (s) => out.push(s),
      stderr: () => {},
      env: {},
    });
    expect(code).toBe(0);
    const { cpu } = JSON.parse(readFileSync(file, "utf8")) as { cpu: { meanPct: number } };
    // 4,908 cycles per 15 s of keepalive at 16 MHz (0.0020 %), plus the start-up's waits spread over the day.
    expect(cpu.meanPct).toBeGreaterThan(0.0015);
    expect(cpu.meanPct).toBeLessThan(0.01);
    expect(out.join("")).toMatch(/cpu {12}mean 0\.00\d\d % {2}p99 0\.00\d\d % {2}max 0\.00\d\d %/);
  });

  it("print two significant digits below 1 %, one decimal from there", () => {
    expect(cpuPct(0)).toBe("0.0");
    expect(cpuPct(0.0027)).toBe("0.0027");
    expect(cpuPct(0.03)).toBe("0.030");
    expect(cpuPct(0.5)).toBe("0.50");
    expect(cpuPct(1.44)).toBe("1.4");
    expect(cpuPct(100)).toBe("100.0");
  });
});
