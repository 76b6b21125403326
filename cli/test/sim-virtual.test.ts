// `twinfleet sim --clock virtual`: the summary, the report and --assert as on real time, with the
// clock named and the progress lines saying how fast it goes; the web page served over it at the pace
// --speed sets; what needs real time is a usage error.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { main } from "../main.js";

/** A file named `name` in a temporary directory removed when the test ends. */
function scratchFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tf-virtual-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { code, out: out.join(""), err: err.join("") };
}

describe("twinfleet sim --clock virtual", () => {
  it("runs to the same summary and report, on virtual time", async () => {
    const file = scratchFile("r.json");
    const args = ["sim", "--clock", "virtual", "--nodes", "16", "--duration", "20", "--rate", "6"];
    const r = await run([...args, "--settle", "2", "--progress-every", "10", "--report", file, "--assert"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("ok   sync latency");
    expect(r.out).toContain("virtual time   in-memory broker, the run's twins service on the same clock");
    expect(r.err).toMatch(/virtual ×[\d.]+ real \(\d+ s wall\)/);
    const report = JSON.parse(readFileSync(file, "utf8"));
    expect(report.scenario).toMatchObject({ clock: "virtual", broker: "memory", nodes: 16 });
    expect(report.requirements.syncP99Under1s).toBe(true);
    expect(report.twinsView).toMatchObject({ known: 16, pairingConfirmed: 16 });
    const bare = await run([...args, "--settle", "2", "--no-twins"]);
    expect(bare.code).toBe(0);
    expect(bare.out).toContain("virtual time   in-memory broker, no twins service");
    const real = await run(["sim", "--no-twins", "--headless"]);
    expect(real.code).toBe(2);
    expect(real.err).toContain("--no-twins: a run without twins needs --clock virtual");
  });

  it("says how many deliveries were superseded, which sync latency counts at 0 ms", async () => {
    const file = scratchFile("chain.json");
    const args = ["sim", "--clock", "virtual", "--nodes", "40", "--duration", "4", "--settle", "2"];
    const chain = await run([
      ...args,
      "--rate",
      "30",
      "--topology",
      "chain",
      "--group-size",
      "5",
      "--report",
      file,
    ]);
    expect(chain.code).toBe(0);
    // Below a chain's head the nodes have seen more presses, so many of the head's lose (protocol §4).
    const { superseded, deliveries } = JSON.parse(readFileSync(file, "utf8"));
    expect(superseded).toBeGreaterThan(deliveries / 4);
    expect(chain.out).toContain(
      `superseded     ${superseded} of them: the follower already held a newer state (counted at 0 ms)`,
    );
    const pairs = await run([...args, "--rate", "6", "--topology", "pairs", "--no-twins"]);
    expect(pairs.code).toBe(0);
    expect(pairs.out).not.toContain("superseded");
  });

  it("counts the presses the boards' button debounce ignored, in the report and one summary line", async () => {
    const file = scratchFile("spam.json");
    const args = [
      "sim",
      "--clock",
      "virtual",
      "--nodes",
      "8",
      "--duration",
      "4",
      "--settle",
      "2",
      "--no-twins",
    ];
    // 10 presses a second per node: a board's 50 ms debounce ignores about λτ/(1+λτ) = 1/3 of them.
    const uno = await run([...args, "--rate", "600", "--report", file]);
    expect(uno.code).toBe(0);
    const { presses, pressesIgnored } = JSON.parse(readFileSync(file, "utf8"));
    expect(pressesIgnored / (presses + pressesIgnored)).toBeGreaterThan(0.25);
    expect(pressesIgnored / (presses + pressesIgnored)).toBeLessThan(0.42);
    expect(uno.out).toContain(`${presses} presses`);
    expect(uno.out).toContain(
      `debounced      ${pressesIgnored} more presses ignored, as a board ignores them (not counted above)`,
    );
    const ideal = await run([...args, "--rate", "600", "--profile", "ideal", "--report", file]);
    expect(ideal.code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).pressesIgnored).toBe(0);
    expect(ideal.out).not.toContain("debounced");
  });

  it("serves the web page on a virtual run, at the pace --speed sets", async () => {
    const args = ["sim", "--clock", "virtual", "--headless", "--nodes", "8", "--duration", "30"];
    const r = await run([...args, "--settle", "1", "--http", "127.0.0.1:0", "--speed", "max"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/web: http:\/\/127\.0\.0\.1:\d+\/#token=/);
    expect(r.out).toContain("virtual time   in-memory broker, the run's twins service on the same clock");
  });

  it("refuses what needs real time, naming the flag", async () => {
    const r = await run(["sim", "--clock", "virtual", "--broker", "mqtt://127.0.0.1:1883"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "twinfleet sim: --broker: needs real time (a real broker, real sockets); --clock virtual runs the nodes on an in-memory broker",
    );
    const bare = await run(["sim", "--clock", "virtual", "--no-twins", "--http", "0"]);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain("twinfleet sim: --http shows the twins service's view of the fleet");
    const speed = await run(["sim", "--clock", "virtual", "--speed", "fast"]);
    expect(speed.code).toBe(2);
    expect(speed.err).toContain('twinfleet sim: --speed: "fast" is not a speed');
    const realSpeed = await run(["sim", "--headless", "--speed", "10"]);
    expect(realSpeed.code).toBe(2);
    expect(realSpeed.err).toContain("--speed sets the pace of a --clock virtual run");
    const bad = await run(["sim", "--clock", "sundial"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--clock: must be real or virtual, got "sundial"');
  });
});
