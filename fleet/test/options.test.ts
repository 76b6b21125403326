// `twinfleet sim` flags: defaults, and an error naming the flag for every bad value.
import { describe, expect, it } from "vitest";
import { DEFAULTS, OptionError, resolveFleetOptions } from "../options.js";

describe("fleet options", () => {
  it("fills every default", () => {
    const o = resolveFleetOptions({});
    expect(o).toMatchObject({
      nodes: DEFAULTS.nodes,
      profile: "uno-w5100",
      topology: "ring",
      groupSize: 8,
      ratePerNodePerMin: 1,
      lossPct: 0,
      seed: "twinfleet",
      durationS: 60,
      settleS: 10,
      headless: false,
      assert: false,
      prefix: "tf",
    });
    expect(o.workers).toBeGreaterThanOrEqual(1);
    expect(o.report).toBeUndefined();
    expect(o.broker).toBeUndefined();
  });

  it("parses every flag", () => {
    const o = resolveFleetOptions({
      nodes: "1000",
      profile: "ideal",
      topology: "pairs",
      groupSize: "2",
      rate: "0.5",
      loss: "12.5",
      ge: "0.01,0.3,0.5",
      seed: "x",
      duration: "30",
      settle: "0",
      headless: true,
      report: "r.json",
      assert: true,
      broker: "mqtt://127.0.0.1:1883",
      workers: "2",
      prefix: "lab-1",
    });
    expect(o).toMatchObject({
      nodes: 1000,
      profile: "ideal",
      topology: "pairs",
      ratePerNodePerMin: 0.5,
      lossPct: 12.5,
      gilbertElliott: { pGoodToBad: 0.01, pBadToGood: 0.3, lossBad: 0.5 },
      durationS: 30,
      settleS: 0,
      report: "r.json",
      broker: "mqtt://127.0.0.1:1883",
      workers: 2,
      prefix: "lab-1",
    });
    expect(resolveFleetOptions({ topology: "pairs.json" }).topology).toEqual({ file: "pairs.json" });
  });

  it.each([
    [{ nodes: "0" }, /--nodes must be a whole number from 1 to 20000 \(got "0"\)/],
    [{ nodes: "ten" }, /--nodes must be a whole number/],
    [{ nodes: "2.5" }, /--nodes must be a whole number/],
    [{ loss: "101" }, /--loss must be a number from 0 to 90/],
    [{ rate: "-1" }, /--rate must be a number from 0 to 600/],
    [{ duration: "" }, /--duration must be a number/],
    [
      { topology: "mesh" },
      /--topology must be one of ring, pairs, star, chain, random, none or a pairing file/,
    ],
    [{ groupSize: "1" }, /--group-size must be a whole number from 2/],
    [{ follows: "9" }, /--follows must be a whole number from 1 to 8/],
    [{ ge: "0.1,0.2" }, /--ge must be three probabilities/],
    [{ ge: "0.1,0,0.5" }, /--ge pBadToGood must be above 0/],
    [{ broker: "localhost:1883" }, /--broker must be mqtt:\/\/host:port/],
    [{ broker: "ws://localhost:8080" }, /simulated nodes speak plain TCP/],
    [
      { broker: "mqtt://h:1883", brokerProcess: true },
      /--broker-process and --broker-data are for a broker the run starts/,
    ],
    [{ fresh: true }, /--fresh clears/],
    [
      { faults: "meteor" },
      /--faults: "meteor" is neither a .json file nor a preset; presets: broker-restart/,
    ],
    [{ faults: "missing.json" }, /--faults: cannot read missing.json: ENOENT/],
    [{ prefix: "a/b" }, /--prefix must be 1-12 of/],
    [{ profile: "Uno W5100" }, /--profile must be a profile name/],
    [{ workers: "-1" }, /--workers must be a whole number from 0 to 64/],
    [{ workers: "65" }, /--workers must be a whole number from 0 to 64/],
  ])("rejects %j", (raw, message) => {
    expect(() => resolveFleetOptions(raw)).toThrow(OptionError);
    expect(() => resolveFleetOptions(raw)).toThrow(message);
  });
});
