// Fleet options: the defaults object, and an error naming the field for every bad value (the
// broker URL, the fault schedule and the fields that only make sense together included).
import { describe, expect, it } from "vitest";
import { OptionError } from "../../protocol/index.js";
import { DEFAULTS } from "../defaults.js";
import { type FleetOptions, FleetOptionsError, optionName, resolveFleetOptions } from "../options.js";

function errorOf(options: unknown): FleetOptionsError {
  try {
    resolveFleetOptions(options as FleetOptions);
  } catch (e) {
    if (e instanceof FleetOptionsError) return e;
    throw e;
  }
  throw new Error("resolveFleetOptions accepted it");
}

describe("fleet options", () => {
  it("fills every default from DEFAULTS, and nothing that was not given", () => {
    const o = resolveFleetOptions({});
    expect(o).toEqual({ ...DEFAULTS });
    expect(DEFAULTS).toMatchObject({
      nodes: 300,
      profile: "uno-w5100",
      topology: "ring",
      groupSize: 8,
      follows: 2,
      ratePerNodePerMin: 1,
      lossPct: 0,
      seed: "twinfleet",
      durationS: 60,
      settleS: 10,
      prefix: "tf",
      idBase: "n",
      progressEveryS: 5,
      pressesEndEarlyS: 0,
      faults: [],
      brokerProcess: false,
      fresh: false,
    });
    expect(DEFAULTS.workers).toBeGreaterThanOrEqual(1);
    expect(DEFAULTS.workers).toBeLessThanOrEqual(4);
    expect(resolveFleetOptions()).toEqual(o);
    // A field given as undefined gets its default.
    expect(resolveFleetOptions({ nodes: undefined, broker: undefined })).toEqual(o);
  });

  it("keeps every field it is given", () => {
    const given: FleetOptions = {
      nodes: 1000,
      profile: "ideal",
      topology: "random",
      groupSize: 2,
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
      progressEveryS: 0.2,
      profileOverrides: { w5100: { rtrMs: 100 } },
      pressesEndEarlyS: 5,
      faults: [{ kind: "loss", atS: 1, pct: 20 }],
      faultsSpec: "loss@1",
      twinsData: "/tmp/t",
      fresh: true,
      login: { username: "ctl", password: "pw" },
      nodePassword: "np",
    };
    expect(resolveFleetOptions(given)).toEqual({ ...DEFAULTS, ...given });
  });

  it("takes follows only with the random topology, which alone picks sources", () => {
    expect(resolveFleetOptions({ topology: { file: "pairs.json" }, groupSize: 2 }).topology).toEqual({
      file: "pairs.json",
    });
    expect(errorOf({ topology: "ring", follows: 3 }).message).toBe(
      "options.follows: is for options.topology random (the sources each node picks in its group); ring says who follows whom",
    );
    expect(errorOf({ topology: { file: "p.json" }, follows: 3 }).message).toMatch(
      /a pairing file \(p\.json\)/,
    );
    expect(resolveFleetOptions({ topology: "random", follows: 3 }).follows).toBe(3);
    // Resolved options hold the default, and resolve again as they are.
    const resolved = resolveFleetOptions({ topology: "ring" });
    expect(resolveFleetOptions({ ...resolved, faults: [] }).follows).toBe(resolved.follows);
  });

  it("names faults it was given without a label by kind and time", () => {
    const o = resolveFleetOptions({
      faults: [
        { kind: "power-outage", atS: 2, offS: 1, nodes: "all" },
        { kind: "loss", atS: 5, pct: 10 },
      ],
    });
    expect(o.faultsSpec).toBe("power-outage@2,loss@5");
  });

  it.each<[string, unknown, string]>([
    [
      "nodes",
      { nodes: 0 },
      "options.nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got 0",
    ],
    [
      "nodes",
      { nodes: 2.5 },
      "options.nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got 2.5",
    ],
    [
      "nodes",
      { nodes: "10" },
      'options.nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got "10"',
    ],
    [
      "nodes",
      { nodes: Number.NaN },
      "options.nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got NaN",
    ],
    [
      "profile",
      { profile: "Uno W5100" },
      'options.profile: must be a profile name like uno-w5100 or a .json file, got "Uno W5100"',
    ],
    [
      "topology",
      { topology: "mesh" },
      "options.topology: must be one of ring, pairs, star, chain, random, none or { file }",
    ],
    ["topology", { topology: { file: " " } }, "options.topology.file: must be a file name"],
    ["groupSize", { groupSize: 1 }, "options.groupSize: must be a whole number from 2 to 20000, got 1"],
    ["follows", { follows: 9 }, "options.follows: must be a whole number from 1 to 8, got 9"],
    [
      "ratePerNodePerMin",
      { ratePerNodePerMin: -1 },
      "options.ratePerNodePerMin: must be a number from 0 to 600, got -1",
    ],
    ["lossPct", { lossPct: 91 }, "options.lossPct: must be a number from 0 to 90, got 91"],
    [
      "gilbertElliott",
      { gilbertElliott: { pGoodToBad: 0.1, pBadToGood: 0, lossBad: 0.5 } },
      "options.gilbertElliott.pBadToGood: must be above 0, or the link never recovers",
    ],
    [
      "gilbertElliott",
      { gilbertElliott: { pGoodToBad: 2, pBadToGood: 0.1, lossBad: 0.5 } },
      "options.gilbertElliott.pGoodToBad:",
    ],
    ["seed", { seed: "" }, "options.seed: must be 1-64 characters"],
    ["durationS", { durationS: 0 }, "options.durationS: must be a number from 1 to 86400, got 0"],
    ["settleS", { settleS: 3601 }, "options.settleS: must be a number from 0 to 3600, got 3601"],
    ["workers", { workers: 65 }, "options.workers: must be a whole number from 0 to 64, got 65"],
    ["workers", { workers: -1 }, "options.workers: must be a whole number from 0 to 64, got -1"],
    ["prefix", { prefix: "a/b" }, 'options.prefix: must be 1-12 of A-Z a-z 0-9 _ -, got "a/b"'],
    ["idBase", { idBase: "n+1" }, 'options.idBase: must be 1-12 of A-Z a-z 0-9 _ -, got "n+1"'],
    [
      "idBase",
      { idBase: "x".repeat(13) },
      `options.idBase: must be 1-12 of A-Z a-z 0-9 _ -, got "${"x".repeat(13)}"`,
    ],
    [
      "progressEveryS",
      { progressEveryS: 0.1 },
      "options.progressEveryS: must be a number from 0.2 to 3600, got 0.1",
    ],
    [
      "profileOverrides",
      { profileOverrides: { w5100: { rtrMs: "fast" } } },
      "options.profileOverrides.w5100.rtrMs:",
    ],
    [
      "pressesEndEarlyS",
      { pressesEndEarlyS: -1 },
      "options.pressesEndEarlyS: must be a number from 0 to 86400, got -1",
    ],
    [
      "pressesEndEarlyS",
      { durationS: 5, pressesEndEarlyS: 5 },
      "options.pressesEndEarlyS: must be below options.durationS (5 s), or no press is made",
    ],
    [
      "faults",
      { faults: [{ kind: "meteor", atS: 1 }] },
      "options.faults: faults[0].kind must be one of broker-restart",
    ],
    [
      "faults",
      { faults: [{ kind: "loss", atS: -1, pct: 5 }] },
      "options.faults: faults[0].atS must not be negative",
    ],
    [
      "faults",
      { durationS: 10, faults: [{ kind: "loss", atS: 20, pct: 5 }] },
      "options.faults: faults[0] (loss) starts at 20 s, when the presses have ended",
    ],
    [
      "faults",
      { nodes: 2, faults: [{ kind: "partition", atS: 1, forS: 1, nodes: ["n-0009"] }] },
      "options.faults: faults[0].nodes: n-0009 not in this fleet",
    ],
    [
      "faults",
      { broker: "mqtt://h:1883", faults: [{ kind: "broker-restart", atS: 1, downS: 1 }] },
      "options.faults: a broker-restart needs a broker the run starts itself (drop options.broker, or add options.brokerProcess",
    ],
    ["faultsSpec", { faultsSpec: "" }, 'options.faultsSpec: must be a label, got ""'],
    ["brokerProcess", { brokerProcess: "yes" }, 'options.brokerProcess: must be true or false, got "yes"'],
    ["brokerData", { brokerData: "" }, 'options.brokerData: must be a directory, got ""'],
    ["twinsData", { twinsData: " " }, 'options.twinsData: must be a directory, got ""'],
    [
      "fresh",
      { fresh: true },
      "options.fresh: clears the fleet's retained state on a options.broker; the run's own broker starts empty",
    ],
    [
      "broker",
      { broker: "mqtt://h:1883", brokerProcess: true },
      "options.broker: names someone else's broker; options.brokerProcess and options.brokerData are for a broker the run starts",
    ],
    ["login", { login: { user: "x" } }, "options.login.user: is not one of its fields"],
    ["login", { login: "ctl" }, "options.login: must be an object with username, password or tls"],
    ["nodePassword", { nodePassword: 1 }, "options.nodePassword: must be a string"],
    ["rate", { rate: 6 }, "options.rate: is not a fleet option"],
  ])("names %s in its error: %j", (field, options, message) => {
    const e = errorOf(options);
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toContain(message);
    expect(e.issues.map((i) => i.field)).toContain(field);
  });

  it.each<[string, string]>([
    ["localhost:1883", "must be mqtt://host:port: simulated nodes speak plain TCP like a W5100"],
    ["ws://localhost:8080", "must be mqtt://host:port: simulated nodes speak plain TCP like a W5100"],
    ["mqtts://localhost:8883", "must be mqtt://host:port: simulated nodes speak plain TCP"],
    ["mqtt://", "needs a host"],
    ["mqtt://h:0", 'the port must be 1-65535, got "mqtt://h:0"'],
    ["mqtt://h:65536", "the port must be 1-65535"],
    ["mqtt://h:12ab", "the port must be 1-65535"],
    ["mqtt://u:pw@h:1883", "must not hold a user name or password: give them as login"],
    ["mqtt://h:1883/fleet", 'mqtt:// has no use for a path ("/fleet")'],
    ["mqtt://h:1883?x=1", 'mqtt:// has no use for a query ("?x=1")'],
    ["not-a-url", "must be a URL like mqtt://host:1883"],
    [" mqtt://h:1883", "must not hold spaces or control characters"],
    ["mqtt://::1:1883", 'an IPv6 address goes in brackets, as in mqtt://[::1]:1883, got "mqtt://::1:1883"'],
    ["mqtt://fd00::5", "an IPv6 address goes in brackets, as in mqtt://[fd00::5]"],
    [
      "mqtt://u:pw@::1:1883",
      'an IPv6 address goes in brackets, as in mqtt://[::1]:1883, got "mqtt://::1:1883"',
    ],
    ["mqtt://u:pw@h:0", 'the port must be 1-65535, got "mqtt://h:0"'],
  ])("refuses the broker URL %s", (broker, message) => {
    const e = errorOf({ broker });
    expect(e.message).toContain(`options.broker: ${message}`);
    // The password is never repeated back.
    expect(e.message).not.toContain("pw@");
  });

  it("accepts the broker URLs a node can reach", () => {
    for (const broker of [
      "mqtt://127.0.0.1:1883",
      "tcp://lab:1884",
      "mqtt://[::1]:1883",
      "mqtt://lab",
      "mqtt://lab/",
    ]) {
      expect(resolveFleetOptions({ broker }).broker).toBe(broker);
    }
  });

  it("reports every bad field at once, each named, and names them as the caller asks", () => {
    const e = errorOf({ nodes: 0, lossPct: 100, broker: "ws://h" });
    expect(e.issues.map((i) => i.field).sort()).toEqual(["broker", "lossPct", "nodes"]);
    const flags = e.describe((field) => `--${field.toLowerCase()}`);
    expect(flags).toContain("--nodes: must be a whole number");
    expect(flags).toContain("--losspct: must be a number from 0 to 90, got 100");
    expect(e.describe(optionName)).toBe(e.message);
  });
});
