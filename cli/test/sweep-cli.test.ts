// `twinfleet sweep` itself: how it words the plan's length, and its refusals of bad flags.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { duration } from "../commands/sweep-run.js";
import { main } from "../main.js";

describe("the sweep's plan", () => {
  it("words the quick sweep's length (5 fleet points of 16.1 s and the CPU table) in minutes and seconds", () => {
    expect(duration(5 * 16.1 + 5)).toBe("1 min 26 s");
    expect(duration(59.4)).toBe("59 s");
  });
});

describe("twinfleet sweep", () => {
  it("refuses bad flags and unknown scenarios with exit code 2, naming them", async () => {
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => void err.push(s) };
    expect(await main(["sweep", "--nodes", "1"], io)).toBe(2);
    expect(err.join("")).toMatch(/--nodes: must be a whole number from 2 to 2000/);
    expect(await main(["sweep", "--scenario", "nope"], io)).toBe(2);
    expect(err.join("")).toMatch(/--scenario: no scenario "nope": the scenarios are faults, paper, settings/);
  });

  it("refuses a --broker that is no MQTT URL, with virtual time, or for a case that restarts the broker", async () => {
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => void err.push(s) };
    expect(await main(["sweep", "--broker", "http://lab-pi"], io)).toBe(2);
    expect(err.pop()).toMatch(/^twinfleet sweep: --broker: must be mqtt:\/\/host:port/);
    expect(await main(["sweep", "--broker", "mqtt://lab-pi:1883", "--clock", "virtual"], io)).toBe(2);
    expect(err.pop()).toMatch(/--broker: needs real time \(a real broker, real sockets\)/);
    expect(await main(["sweep", "--broker", "mqtt://u:secret@lab-pi:1883", "--scenario", "faults"], io)).toBe(
      2,
    );
    const said = err.pop() ?? "";
    expect(said).toMatch(
      /--broker: scenario faults, fault case .*: broker-restart needs a broker the sweep starts itself/,
    );
    expect(said).not.toContain("secret");
    expect(await main(["sweep", "--node-password", "pw"], io)).toBe(2);
    expect(err.pop()).toMatch(
      /--node-password is for a --broker with credentials; the run's own broker has none/,
    );
  });

  it("prints its summary before its files, and names --out and the file it cannot write (a disk full by the end)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tf-sweep-out-"));
    try {
      // A directory where report.json goes: its write fails after the sweep, as on a disk that filled.
      await mkdir(join(dir, "report.json"));
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
      const args = ["sweep", "--clock", "virtual", "--scenario", "paper", "--quick", "--out", dir];
      expect(await main(args, io)).toBe(1);
      expect(out.join("")).toMatch(/paper/);
      expect(err.at(-1)).toMatch(
        new RegExp(`^twinfleet sweep: --out: cannot write ${join(dir, "report.json")}: `),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
