// `sim --shard` and `report merge` on the command line: bad values are usage errors (exit 2) naming
// the flag or the file; nothing starts.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fleetCutShort, fleetOfTwo, SKEW } from "../../fleet/test/ring-of-four.js";
import { syntheticShards } from "../../fleet/test/shard-fleet.js";
import { main } from "../main.js";
import { VERSION } from "../version.js";

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env });
  return { code, out: out.join(""), err: err.join("") };
}

const BROKER = ["--broker", "mqtt://127.0.0.1:9"];

describe("twinfleet sim --shard", () => {
  it.each([
    [["--shard", "0/4"], /--shard: .*K is "0", not from 1 to 4/],
    [["--shard", "5/4"], /K is "5"/],
    [["--shard", "two/4"], /K is "two"/],
    [["--shard", "01/4"], /K is "01"/],
    [["--shard", "1/0x4"], /N is "0x4"/],
    [["--shard", "1"], /--shard: must be K\/N/],
    [["--shard", "env/4"], /\$JOB_COMPLETION_INDEX, which is not set/],
  ])("refuses %j with exit 2", async (flags, msg) => {
    const r = await run(["sim", ...flags, ...BROKER, "--shard-report", "x.json"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err).toMatch(/twinfleet sim --help/);
  });

  it("takes the shard from JOB_COMPLETION_INDEX, and checks it against N", async () => {
    const r = await run(["sim", "--shard", "env/4", ...BROKER, "--shard-report", "x.json"], {
      JOB_COMPLETION_INDEX: "4",
    });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/from 0 to 3 \(0-based\) for env\/4, got "4"/);
  });

  it.each([
    [["--shard", "1/2", "--shard-report", "x.json"], /--shard needs --broker/],
    [["--shard", "1/2", ...BROKER], /--shard needs --shard-report FILE/],
    [["--shard-report", "x.json", ...BROKER], /--shard-report needs --shard K\/N/],
    [
      ["--shard", "1/2", ...BROKER, "--shard-report", "x.json", "--report", "r.json"],
      /--report cannot be used with --shard/,
    ],
    [["--shard", "1/2", ...BROKER, "--shard-report", "x.json", "--faults", "partition"], /without --faults/],
    [
      ["--shard", "1/2", ...BROKER, "--shard-report", "x.json", "--clock", "virtual"],
      /--broker: needs real time/,
    ],
    [["--shard", "3/3", ...BROKER, "--shard-report", "x.json", "--nodes", "2"], /3 shards for 2 nodes/],
    [["--shard", "1/2", ...BROKER, "--shard-report", "x.json", "--nodes", "0"], /--nodes: must be/],
  ])("refuses %j with exit 2", async (flags, msg) => {
    const r = await run(["sim", ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });

  // Refused once the start's lines had begun, the lines went on after the error every interval and
  // the process never exited: nothing of the run is left behind a refusal.
  it.each([
    [["--nodes", "2"], /3 shards for 2 nodes/],
    [["--nodes", "0"], /--nodes: must be/],
  ])("leaves no timer running after refusing %j", async (flags, msg) => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const r = await run(["sim", "--shard", "3/3", ...BROKER, "--shard-report", "x.json", ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(timers()).toBe(before);
  });
});

describe("twinfleet report merge", () => {
  const dir = mkdtempSync(join(tmpdir(), "tf-merge-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses shards run by two builds (one host upgraded before the other), naming both, exit 2", async () => {
    const [s1, s2] = fleetOfTwo();
    const p1 = join(dir, "b1.json");
    const p2 = join(dir, "b2.json");
    writeFileSync(p1, JSON.stringify({ ...s1, build: "0.1.0+20261205.202e2ee" }));
    writeFileSync(p2, JSON.stringify({ ...s2, build: "0.1.0+20261207.984dabc" }));
    const r = await run(["report", "merge", p1, p2]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `${p2}: ran twinfleet 0.1.0+20261207.984dabc, but ${p1} ran twinfleet 0.1.0+20261205.202e2ee: the shards of one fleet run one build`,
    );
    expect(r.out).toBe("");
  });

  it("refuses a shard report in a newer format, naming the build that wrote it, exit 1, writing nothing", async () => {
    const [s1, s2] = fleetOfTwo();
    const p1 = join(dir, "n1.json");
    const p2 = join(dir, "n2.json");
    const out = join(dir, "n-fleet.json");
    writeFileSync(p1, JSON.stringify(s1));
    writeFileSync(
      p2,
      JSON.stringify({ ...s2, format: "twinfleet-shard-report/2", build: "0.1.0+20261220.abcdef1" }),
    );
    const r = await run(["report", "merge", p1, p2, "--out", out]);
    expect(r.err).toBe(
      `twinfleet report merge: ${p2} is a shard report in format 2, written by a newer twinfleet (build 0.1.0+20261220.abcdef1); this one reads formats up to 1: merge the shards' reports with that build or a later one (this is ${VERSION})\n`,
    );
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(existsSync(out)).toBe(false);
  });

  it("names the file that is not a shard report, exit 2", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{}");
    const r = await run(["report", "merge", bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`twinfleet report merge: ${bad}: format must be "twinfleet-shard-report/1"`);
  });

  it.each([
    ["no hostname", { hostname: undefined }, /hostname must be a string, got undefined/],
    ["a hostname that is no string", { hostname: 7 }, /hostname must be a string, got number/],
    ["no cutShort", { cutShort: undefined }, /cutShort must be a boolean, got undefined/],
    ["a cutShort that is no boolean", { cutShort: "no" }, /cutShort must be a boolean, got string/],
    ["counts that are no object", { counts: [] }, /counts must be an object, got array/],
  ])("refuses a shard report with %s, naming the file and the field, exit 2", async (_, change, msg) => {
    const [s1, s2] = syntheticShards(16, 2, 1, "s");
    const good = join(dir, "s1.json");
    const bad = join(dir, "s2-bad.json");
    writeFileSync(good, JSON.stringify(s1));
    writeFileSync(bad, JSON.stringify({ ...s2, ...change }));
    const r = await run(["report", "merge", good, bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err).toContain(bad);
  });

  it("with a shard's report missing: refuses it (exit 2), or with --partial merges the rest and fails --assert", async () => {
    const [s1] = syntheticShards(16, 2, 1, "s");
    const only = join(dir, "only-1.json");
    writeFileSync(only, JSON.stringify(s1));
    const refused = await run(["report", "merge", only, "--assert"]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/shard 2 of 2 missing: .*or --partial/);
    const r = await run(["report", "merge", only, "--partial", "--assert"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/shard 2 {8}NO REPORT \(--partial\)/);
    // Headed by the nodes merged, not the whole fleet's 16; registration judged on them.
    expect(r.out).toMatch(/^\n8 nodes of the fleet's 16 \(the shards merged\) \(uno-w5100\)/);
    expect(r.out).toMatch(/ {2}ok {3}registration {3}8\/8 /);
    expect(r.err).toContain(
      "shard 2 of 2 wrote no report: 8 of the 16 nodes, their presses and the deliveries to them are in no figure",
    );
  });

  it("with a shard cut short during the presses: names it on its line, and --assert fails naming it", async () => {
    const files = fleetCutShort().map((f, i) => {
      const path = join(dir, `cut-${i + 1}.json`);
      writeFileSync(path, JSON.stringify(f));
      return path;
    });
    const r = await run(["report", "merge", ...files, "--assert"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/shard 2 {8}2 nodes on host-2: .*, CUT SHORT 25\.0 s after its presses began/);
    expect(r.err).toContain(
      "shard 2 of 2 was cut short 25.0 s into the 60 s of presses: its 2 nodes are measured only until then (2 pairs pressed later to them are in no figure)",
    );
  });

  it("with shards whose presses began apart: names it on its line, and --assert fails naming it", async () => {
    const [s1, s2] = fleetOfTwo();
    const files = [s1, { ...s2, pressStartMs: s1.pressStartMs + SKEW + 40_000 }].map((f, i) => {
      const path = join(dir, `apart-${i + 1}.json`);
      writeFileSync(path, JSON.stringify(f));
      return path;
    });
    const r = await run(["report", "merge", ...files, "--assert"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /shard 2 {8}.*, PRESSED APART: began 40\.0 s after shard 1's \(on shard 1's clock\)/,
    );
    expect(r.err).toContain(
      "shard 2 of 2 began its presses 40.0 s after shard 1's (on shard 1's clock): the shards did not press together",
    );
  });

  it("needs at least one file", async () => {
    const r = await run(["report", "merge"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing required argument 'files'/);
  });

  it("lists merge in its help", async () => {
    const r = await run(["report", "--help"]);
    expect(r.out).toMatch(/merge/);
  });
});
