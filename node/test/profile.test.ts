/**
 * Device profiles: the shipped ones load, and bad files fail with messages that name the field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadProfile, ProfileError, parseProfile } from "../profile.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("shipped profiles", () => {
  it.each(["uno-w5100", "due-w5100", "ideal", "linux-client"])("%s loads", (name) => {
    const p = loadProfile(name);
    expect(p.name).toBe(name);
    expect(p.mcu.clockHz).toBeGreaterThan(0);
  });

  it("cite every uno figure and mark which are measured, datasheet, software or estimates", () => {
    const p = loadProfile("uno-w5100");
    expect(p.cited.w5100.rtrMs).toMatchObject({ value: 200, source: "datasheet" });
    expect(p.cited.coreCycles.press).toMatchObject({ value: 3075, source: "measured" });
    expect(p.cited.cycles.packetBuildPerByte.source).toBe("estimate");
    expect(p.firmware).toMatchObject({
      flashBudgetBytes: 32256,
      sramBudgetBytes: 2048,
      flashUsedBytes: 21874,
      sramStaticBytes: 1308,
    });
    expect(p.mqtt.maxPacketBytes).toBe(256);
  });

  it("marks nothing on the Due measured: the cycle counts are the AVR's", () => {
    const p = loadProfile("due-w5100");
    expect(Object.values(p.cited.coreCycles).every((f) => f.source === "estimate")).toBe(true);
  });

  it("ideal costs nothing and ignores loss", () => {
    const p = loadProfile("ideal");
    expect(Object.values(p.cycles).every((c) => c === 0)).toBe(true);
    expect(Object.values(p.coreCycles).every((c) => c === 0)).toBe(true);
    expect(p.network.lossFree).toBe(true);
  });

  it("linux-client takes loss and retransmits as Linux: 200 ms first RTO, 15 retries, 120 s cap", () => {
    const p = loadProfile("linux-client");
    expect(p.network.lossFree).toBe(false);
    expect([p.w5100.rtrMs, p.w5100.rcr, p.w5100.rtoCapMs]).toEqual([200, 15, 120_000]);
    expect([p.brokerTcp.rtoMinMs, p.brokerTcp.retries]).toEqual([200, 15]);
  });
});

describe("bad profile files", () => {
  const cases: [string, RegExp][] = [
    ["bad-cycles.json", /cycles\.digitalWrite\.value: .*number/],
    ["bad-source.json", /w5100\.rtrMs\.source: /],
    ["missing-ref.json", /mqtt\.keepaliveS\.ref: /],
    ["unknown-field.json", /w5100: .*rtrUs/],
    [
      "fast-loop.json",
      /loop\.idlePeriodUs\.value: is shorter than one idle poll plus loop overhead \(54\.4 µs\)/,
    ],
    ["not-json.json", /not valid JSON/],
    // A keep alive CONNECT cannot carry failed only when the nodes connected (exit 1, "Invalid keepalive").
    ["fractional-keepalive.json", /mqtt\.keepaliveS\.value: must be a whole number of seconds/],
    // Past these a run's clocks and histograms overflowed, or a run failed as "no answer (CONNACK)".
    ["huge-figure.json", /cycles\.digitalWrite\.value: must be at most 1e12/],
    ["slow-broker.json", /network\.brokerForwardMs\.value: must be at most 60000 ms/],
  ];
  it.each(cases)("%s is refused naming the field", (file, message) => {
    expect(() => loadProfile(fixture(file))).toThrow(ProfileError);
    expect(() => loadProfile(fixture(file))).toThrow(message);
  });

  it("a missing profile names what was asked for and lists the profiles there are", () => {
    expect(() => loadProfile("no-such-board")).toThrow(
      'no device profile "no-such-board"; the profiles are due-w5100, ideal, linux-client, uno-w5100 (or give a .json file)',
    );
    expect(() => loadProfile("/nowhere/board.json")).toThrow(
      /^cannot read \/nowhere\/board.json: no such file$/,
    );
  });
});

describe("a socket buffer of 0 in a profile file", () => {
  it.each(["rxBufferBytes", "txBufferBytes"] as const)("%s 0 is refused naming the field", (buffer) => {
    const dir = mkdtempSync(join(tmpdir(), "tf-profile-"));
    try {
      const file = join(dir, "zero.json");
      const uno = JSON.parse(readFileSync(fixture("../../../profiles/devices/uno-w5100.json"), "utf8"));
      uno.w5100[buffer].value = 0;
      writeFileSync(file, JSON.stringify(uno));
      // A TX buffer of 0 was read as one without limit: the same run as 2 KB, no error.
      expect(() => loadProfile(file)).toThrow(ProfileError);
      expect(() => loadProfile(file)).toThrow(new RegExp(`w5100\\.${buffer}\\.value: must be at least 1 B`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the broker's RTO bounds in a profile file", () => {
  const uno = () => JSON.parse(readFileSync(fixture("../../../profiles/devices/uno-w5100.json"), "utf8"));

  it("refuses rtoMaxMs below rtoMinMs naming both fields and values", () => {
    const p = uno();
    p.brokerTcp.rtoMaxMs.value = 100;
    // It was taken without a word: every retransmission of the broker waited 100 ms.
    expect(() => parseProfile(p, "p.json")).toThrow(ProfileError);
    expect(() => parseProfile(p, "p.json")).toThrow(
      "p.json: invalid device profile\n  brokerTcp.rtoMaxMs.value: 100 ms is below brokerTcp.rtoMinMs (200 ms)",
    );
  });

  it("takes rtoMaxMs equal to rtoMinMs (a fixed RTO)", () => {
    const p = uno();
    p.brokerTcp.rtoMaxMs.value = 200;
    expect(parseProfile(p, "p.json").brokerTcp).toMatchObject({ rtoMinMs: 200, rtoMaxMs: 200 });
  });
});

describe("the W5100's retransmission wait in a profile file", () => {
  const uno = () => JSON.parse(readFileSync(fixture("../../../profiles/devices/uno-w5100.json"), "utf8"));

  it("refuses rtrMs above rtoCapMs naming both fields and values", () => {
    const p = uno();
    p.w5100.rtrMs.value = 6500;
    // It was taken without a word: the first retransmission waited the cap, 6400 ms, not 6500.
    expect(() => parseProfile(p, "p.json")).toThrow(ProfileError);
    expect(() => parseProfile(p, "p.json")).toThrow(
      "p.json: invalid device profile\n  w5100.rtrMs.value: 6500 ms is above w5100.rtoCapMs (6400 ms)",
    );
  });

  it("refuses rtrMs 0 naming the field: no wait retransmits without end (a run read 100 % CPU)", () => {
    const p = uno();
    p.w5100.rtrMs.value = 0;
    expect(() => parseProfile(p, "p.json")).toThrow(
      "p.json: invalid device profile\n  w5100.rtrMs.value: 0 ms is no wait",
    );
  });

  it("refuses an rtrMs the W5100's RTR register cannot hold (16 bits of 100 µs)", () => {
    const p = uno();
    p.w5100.rtoCapMs.value = 10_000;
    p.w5100.rtrMs.value = 6553.6;
    expect(() => parseProfile(p, "p.json")).toThrow(
      "w5100.rtrMs.value: 6553.6 ms is outside what a W5100's RTR",
    );
    p.w5100.rtrMs.value = 0.05;
    expect(() => parseProfile(p, "p.json")).toThrow(
      "w5100.rtrMs.value: 0.05 ms is outside what a W5100's RTR",
    );
    p.w5100.rtrMs.value = 200.05;
    expect(() => parseProfile(p, "p.json")).toThrow(
      "w5100.rtrMs.value: 200.05 ms is not a whole number of 100 µs",
    );
    p.w5100.rtrMs.value = 6553.5;
    expect(parseProfile(p, "p.json").w5100.rtrMs).toBe(6553.5);
    p.w5100.rtrMs.value = 0.1;
    expect(parseProfile(p, "p.json").w5100.rtrMs).toBe(0.1);
  });

  it("takes any rtrMs above 0 as Linux's TCP_RTO_MIN (nodeTcp), refuses 0", () => {
    const p = JSON.parse(readFileSync(fixture("../../../profiles/devices/linux-client.json"), "utf8"));
    p.w5100.rtrMs.value = 0.05;
    expect(parseProfile(p, "p.json").w5100.rtrMs).toBe(0.05);
    p.w5100.rtrMs.value = 0;
    expect(() => parseProfile(p, "p.json")).toThrow("w5100.rtrMs.value: 0 ms is no wait");
  });

  it("takes rtrMs equal to rtoCapMs (a fixed wait)", () => {
    const p = uno();
    p.w5100.rtrMs.value = 6400;
    expect(parseProfile(p, "p.json").w5100).toMatchObject({ rtrMs: 6400, rtoCapMs: 6400 });
  });
});

describe("a prototype key in a profile file", () => {
  it("is refused naming it, as any unknown key is (JSON.parse makes it a plain key, zod names it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-profile-"));
    try {
      const file = join(dir, "proto.json");
      const ideal = readFileSync(fixture("../../../profiles/devices/ideal.json"), "utf8");
      writeFileSync(file, ideal.replace("{", '{"__proto__":{"polluted":true},'));
      expect(() => loadProfile(file)).toThrow(/\(root\): Unrecognized key: "__proto__"/);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
