// Fleet flags → typed FleetOptions, and every bad value named by its flag with exit code 2, whether
// the flag parser or the fleet's own validation finds it (nothing is started in either case).
import { describe, expect, it } from "vitest";
import { loadFaultSchedule } from "../../fleet/faults/schedule.js";
import { FleetOptionsError, resolveFleetOptions } from "../../fleet/options.js";
import { OptionError } from "../../protocol/index.js";
import { UsageError } from "../errors.js";
import {
  flagName,
  fleetOptionsFromFlags,
  numberFlag,
  wholeNumberFlag,
  withFlagNamesSync,
} from "../fleet-flags.js";
import { main } from "../main.js";

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {} });
  return { code, out: out.join(""), err: err.join("") };
}

describe("fleet flags", () => {
  it("turn every flag into its typed option, and leave out the flags not given", () => {
    expect(fleetOptionsFromFlags({})).toEqual({});
    expect(
      fleetOptionsFromFlags({
        nodes: "1000",
        profile: "ideal",
        topology: "chain",
        groupSize: "5",
        follows: "3",
        rate: "0.5",
        loss: "12.5",
        ge: "0.01, 0.3,0.5",
        seed: "x",
        duration: "30",
        settle: "0",
        broker: "mqtt://127.0.0.1:1883",
        workers: "0",
        prefix: "lab-1",
        idBase: "r07",
        progressEvery: "1",
        faults: "partition@3",
        brokerData: "bd",
        twinsData: "td",
        brokerProcess: true,
        fresh: true,
      }),
    ).toEqual({
      nodes: 1000,
      profile: "ideal",
      topology: "chain",
      groupSize: 5,
      follows: 3,
      ratePerNodePerMin: 0.5,
      lossPct: 12.5,
      gilbertElliott: { pGoodToBad: 0.01, pBadToGood: 0.3, lossBad: 0.5 },
      seed: "x",
      durationS: 30,
      settleS: 0,
      broker: "mqtt://127.0.0.1:1883",
      workers: 0,
      prefix: "lab-1",
      idBase: "r07",
      progressEveryS: 1,
      faults: loadFaultSchedule("partition@3"),
      faultsSpec: "partition@3",
      brokerData: "bd",
      twinsData: "td",
      brokerProcess: true,
      fresh: true,
    });
    expect(fleetOptionsFromFlags({ topology: "pairs.json" }).topology).toEqual({ file: "pairs.json" });
  });

  it.each<[Record<string, string>, string]>([
    [{ nodes: "ten" }, '--nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got "ten"'],
    [{ nodes: "" }, '--nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got ""'],
    [{ rate: "fast" }, '--rate: must be a number from 0 to 600, got "fast"'],
    [{ loss: "5%" }, '--loss: must be a number from 0 to 90, got "5%"'],
    [{ duration: "1m" }, '--duration: must be a number from 1 to 86400, got "1m"'],
    [{ workers: "all" }, '--workers: must be a whole number from 0 to 64, got "all"'],
    [{ progressEvery: "Infinity" }, '--progress-every: must be a number from 0.2 to 3600, got "Infinity"'],
    [
      { topology: "mesh" },
      '--topology: must be one of ring, pairs, star, chain, random, none or a pairing file ending in .json, got "mesh"',
    ],
    [{ ge: "0.1,0.2" }, '--ge: must be three probabilities "pGoodToBad,pBadToGood,lossBad"'],
    [{ ge: "0.1,,0.2" }, '--ge: must be three probabilities "pGoodToBad,pBadToGood,lossBad"'],
    [{ faults: "meteor" }, '--faults: "meteor" is neither a .json file nor a preset'],
    [{ faults: "meteor@30" }, '--faults: "meteor@30" is neither a .json file nor a preset'],
    [
      { faults: "partition@-5" },
      '--faults: "partition@-5": the start after @ must be seconds into the presses',
    ],
    [{ faults: "partition@" }, 'a number ≥ 0 (e.g. partition@30), got ""'],
    [{ faults: "partition@010" }, 'got "010" (plain decimal digits only'],
    [{ faults: "partition@1e2" }, 'got "1e2" (plain decimal digits only'],
    [{ faults: "toString@5" }, '--faults: "toString@5" is neither a .json file nor a preset'],
  ])("refuse %j naming the flag", (flags, message) => {
    expect(() => fleetOptionsFromFlags(flags)).toThrow(message);
    expect(() => fleetOptionsFromFlags(flags)).toThrow(OptionError);
  });

  it("word the fleet's own errors with the flags, fields without a flag as options", () => {
    const errorOf = (f: () => unknown): FleetOptionsError => {
      try {
        f();
      } catch (x) {
        if (x instanceof FleetOptionsError) return x;
      }
      throw new Error("accepted");
    };
    const ge = errorOf(() => resolveFleetOptions(fleetOptionsFromFlags({ ge: "0.1,0,0.5", loss: "95" })));
    expect(ge.describe(flagName)).toBe(
      "--loss: must be a number from 0 to 90, got 95; --ge (pBadToGood): must be above 0, or the link never recovers",
    );
    const together = errorOf(() =>
      resolveFleetOptions({ ...fleetOptionsFromFlags({ fresh: true }), pressesEndEarlyS: 100 }),
    );
    expect(together.describe(flagName)).toBe(
      "--fresh: clears the fleet's retained state on a --broker; the run's own broker starts empty; options.pressesEndEarlyS: must be below --duration (60 s), or no press is made",
    );
    expect(() => withFlagNamesSync(() => resolveFleetOptions({ workers: 65 }))).toThrow(
      new UsageError("--workers: must be a whole number from 0 to 64, got 65"),
    );
  });

  it("take numbers in plain decimal only: no hex, octal, binary, exponent, sign + or spaces", () => {
    for (const ok of ["16", "0", "-1", "2.5", "0.5"])
      expect(numberFlag("--rate", ok, "a number")).toBe(Number(ok));
    for (const bad of [
      "0x10",
      "0o10",
      "0b11",
      "010",
      "1e1",
      "1E1",
      " 16",
      "16 ",
      "\t16",
      "+16",
      "16.",
      ".5",
    ]) {
      expect(() => numberFlag("--nodes", bad, "a whole number"), bad).toThrow(
        `--nodes: must be a whole number (plain decimal digits only: no hex, octal, exponent, sign + or spaces), got ${JSON.stringify(bad)}`,
      );
    }
    for (const bad of ["1_000", "Infinity", "NaN", "", "abc"]) {
      expect(() => numberFlag("--nodes", bad, "a whole number"), bad).toThrow(
        `--nodes: must be a whole number, got ${JSON.stringify(bad)}`,
      );
    }
    expect(() => fleetOptionsFromFlags({ ge: "0.1,1e-1,0.5" })).toThrow(/--ge: must be three probabilities/);
    expect(fleetOptionsFromFlags({ ge: "0.1, 0.2, 0.5" }).gilbertElliott).toEqual({
      pGoodToBad: 0.1,
      pBadToGood: 0.2,
      lossBad: 0.5,
    });
  });

  it("parse the plain number flags of sweep and the benchmarks", () => {
    expect(numberFlag("--rounds", undefined, "a number")).toBeUndefined();
    expect(numberFlag("--rounds", "3", "a number")).toBe(3);
    expect(() => numberFlag("--rounds", "x", "a number")).toThrow('--rounds: must be a number, got "x"');
    expect(wholeNumberFlag("--nodes", "20", 2, 2000)).toBe(20);
    expect(() => wholeNumberFlag("--nodes", "2.5", 2, 2000)).toThrow(
      '--nodes: must be a whole number from 2 to 2000, got "2.5"',
    );
  });
});

describe("twinfleet sim and sweep with bad fleet flags", () => {
  it.each<[string[], string]>([
    [["--nodes", "x"], '--nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got "x"'],
    [["--nodes", "0"], "--nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got 0"],
    [["--loss", "95"], "--loss: must be a number from 0 to 90, got 95"],
    [["--group-size", "1"], "--group-size: must be a whole number from 2 to 20000, got 1"],
    [["--ge", "0.1,0,0.5"], "--ge (pBadToGood): must be above 0, or the link never recovers"],
    [
      ["--broker", "ws://127.0.0.1:8080"],
      "--broker: must be mqtt://host:port: simulated nodes speak plain TCP",
    ],
    [["--broker", "mqtt://127.0.0.1:0"], '--broker: the port must be 1-65535, got "mqtt://127.0.0.1:0"'],
    [
      ["--broker", "mqtt://127.0.0.1:1", "--broker-process"],
      "--broker: names someone else's broker; --broker-process and --broker-data are for a broker the run starts",
    ],
    [["--fresh"], "--fresh: clears the fleet's retained state on a --broker"],
    [["--prefix", "a/b"], '--prefix: must be 1-12 of A-Z a-z 0-9 _ -, got "a/b"'],
    [["--id-base", "r/07"], '--id-base: must be 1-12 of A-Z a-z 0-9 _ -, got "r/07"'],
    [["--twins-data", ""], '--twins-data: must be a directory, got ""'],
    [["--report", " "], "--report: must name a file"],
    [
      ["--nodes", "0x10"],
      "--nodes: must be a whole number from 1 to 20000 (200000 on virtual time) (plain decimal",
    ],
    [["--loss", " 5"], "--loss: must be a number from 0 to 90 (plain decimal digits only"],
    [["--duration", "1e2"], "--duration: must be a number from 1 to 86400 (plain decimal digits only"],
    [["--clock", "virtual", "--speed", "0x10"], '--speed: "0x10" is not a speed'],
  ])("sim %j exits 2 naming the flag", async (flags, message) => {
    const r = await run(["sim", "--headless", ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`twinfleet sim: ${message}`);
    expect(r.err).toContain("(run twinfleet sim --help for usage)");
    expect(r.err).not.toContain("options.");
    expect(r.out).toBe("");
  });

  it.each<[string[], string]>([
    [["--workers", "65"], "--workers: must be a whole number from 0 to 64, got 65"],
    [["--workers", "x"], '--workers: must be a whole number from 0 to 64, got "x"'],
    [["--nodes", "1"], '--nodes: must be a whole number from 2 to 2000, got "1"'],
    [["--seconds", "soon"], '--seconds: must be a whole number from 2 to 600, got "soon"'],
    [
      ["--seconds", "010"],
      '--seconds: must be a whole number from 2 to 600 (plain decimal digits only: no hex, octal, exponent, sign + or spaces), got "010"',
    ],
    [["--scenario", "paper,"], "--scenario: has an empty name"],
  ])("sweep %j exits 2 naming the flag", async (flags, message) => {
    const r = await run(["sweep", "--out", "/nonexistent/never-written", ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`twinfleet sweep: ${message}`);
  });
});
