// `twinfleet sim --loss-mode`: the flag's values and the combinations it refuses are usage errors
// (exit 2) naming the flags, found before anything starts.
import { describe, expect, it } from "vitest";
import { runCli } from "./auth-broker.js";

describe("twinfleet sim --loss-mode", () => {
  it("refuses a mode it does not know, naming the flag", async () => {
    const r = await runCli(["sim", "--headless", "--loss-mode", "netem"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--loss-mode: must be model or kernel, got "netem"');
  });

  it("refuses kernel with someone else's broker, virtual time, --ge or a fractional --loss", async () => {
    const broker = await runCli([
      "sim",
      "--headless",
      "--loss-mode",
      "kernel",
      "--broker",
      "mqtt://lab:1883",
    ]);
    expect(broker.code).toBe(2);
    expect(broker.err).toContain(
      "--loss-mode: kernel runs the fleet's own broker in a network namespace; --broker",
    );
    const virtual = await runCli(["sim", "--headless", "--loss-mode", "kernel", "--clock", "virtual"]);
    expect(virtual.code).toBe(2);
    expect(virtual.err).toContain("--clock virtual runs in memory");
    const ge = await runCli(["sim", "--headless", "--loss-mode", "kernel", "--ge", "0.1,0.5,0.5"]);
    expect(ge.code).toBe(2);
    expect(ge.err).toContain("--ge is the model's bursty loss");
    const frac = await runCli(["sim", "--headless", "--loss-mode", "kernel", "--loss", "7.5"]);
    expect(frac.code).toBe(2);
    expect(frac.err).toContain("--loss: must be a whole percent with --loss-mode kernel");
  });
});
