// Output paths (--report, --shard-report, --out) are checked before a run, not when it is over.
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { syntheticShards } from "../../fleet/test/shard-fleet.js";
import { isStdout } from "../../node/whole-file.js";
import { main } from "../main.js";
import { checkOutputDir, checkOutputFile, writeOutputFile } from "../output-path.js";
import { spawnCli } from "./spawned-sim.js";

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "twinfleet-out-"));
  file = join(dir, "file");
  await writeFile(file, "x");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const err: string[] = [];
  const code = await main(argv, { stdout: () => {}, stderr: (s) => err.push(s) });
  return { code, err: err.join("") };
}

describe("checkOutputFile / checkOutputDir", () => {
  it("makes a missing directory and accepts a file there", async () => {
    checkOutputFile("--report", join(dir, "a", "b", "r.json"));
    expect((await stat(join(dir, "a", "b"))).isDirectory()).toBe(true);
    checkOutputDir("--out", join(dir, "c"));
    expect((await stat(join(dir, "c"))).isDirectory()).toBe(true);
  });

  it("names the flag and what is wrong", () => {
    expect(() => checkOutputFile("--report", dir)).toThrow(`--report: ${dir} is a directory; name a file`);
    expect(() => checkOutputFile("--report", join(file, "r.json"))).toThrow(
      `--report: cannot write ${join(file, "r.json")}: ${file} is a file (EEXIST)`,
    );
    expect(() => checkOutputFile("--report", join(file, "a", "r.json"))).toThrow(
      /lies under a file \(ENOTDIR\)/,
    );
    expect(() => checkOutputFile("--out", "/proc/twinfleet-no-such/r.json")).toThrow(
      "--out: cannot write /proc/twinfleet-no-such/r.json: /proc/twinfleet-no-such cannot be made (ENOENT)",
    );
    expect(() => checkOutputDir("--out", file)).toThrow(/--out: cannot write .*is a file \(EEXIST\)/);
    expect(() => checkOutputFile("--report", " ")).toThrow("--report: must name a file");
    const long = join(dir, "x".repeat(300));
    // The path is quoted back cut short (60 characters and …).
    expect(() => checkOutputFile("--out", long)).toThrow(
      `--out: cannot write "${long.slice(0, 60)}…": the name is too long (ENAMETOOLONG)`,
    );
  });

  it("a write that fails after the run names the flag and the file", () => {
    const full = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    expect(() => writeOutputFile("--report", "/data/r.json", full)).toThrow(
      "--report: cannot write /data/r.json: no space left on the device (ENOSPC)",
    );
  });
});

describe("commands refuse an output they could not write, before running", () => {
  it("sim --report", async () => {
    const r = await run([
      "sim",
      "--clock",
      "virtual",
      "--nodes",
      "2",
      "--duration",
      "5",
      "--headless",
      "--report",
      join(file, "r.json"),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--report: cannot write .*is a file \(EEXIST\)/);
    // Nothing ran: no progress line, no summary.
    expect(r.err).not.toMatch(/registered/);
  });

  it("sweep --out and report merge --out", async () => {
    const sweep = await run(["sweep", "--quick", "--clock", "virtual", "--out", join(file, "sweep")]);
    expect(sweep.code).toBe(2);
    expect(sweep.err).toMatch(/twinfleet sweep: --out: cannot write .*ENOTDIR/);
    const merge = await run(["report", "merge", join(dir, "missing.json"), "--out", join(file, "m.json")]);
    expect(merge.code).toBe(2);
    expect(merge.err).toMatch(/--out: cannot write .*is a file \(EEXIST\)/);
  });

  it("report merge --out with a name too long for the file system: exit 2, naming --out", async () => {
    const long = join(dir, "m".repeat(300));
    const merge = await run(["report", "merge", join(dir, "missing.json"), "--out", long]);
    expect(merge.code).toBe(2);
    expect(merge.err).toContain(
      `--out: cannot write "${long.slice(0, 60)}…": the name is too long (ENAMETOOLONG)`,
    );
  });
});

// /dev/full (Linux) fails every write with ENOSPC.
describe("an output that cannot be written after the run", () => {
  it("report merge --out /dev/full: exit 1, naming --out and the file", async () => {
    const [s1, s2] = syntheticShards(16, 2, 1, "s");
    const a = join(dir, "s1.json");
    const b = join(dir, "s2.json");
    await writeFile(a, JSON.stringify(s1));
    await writeFile(b, JSON.stringify(s2));
    const r = await run(["report", "merge", a, b, "--out", "/dev/full"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "twinfleet report merge: --out: cannot write /dev/full: no space left on the device (ENOSPC)",
    );
  });
});

describe("a report on standard output", () => {
  it("`-` is standard output, as is another name for its file; a file is not", async () => {
    expect(isStdout("-")).toBe(true);
    expect(() => checkOutputFile("--report", "-")).not.toThrow();
    expect(isStdout(join(dir, "r.json"))).toBe(false);
  });

  it("sim --report - | jq: stdout holds the JSON only, the summary goes to stderr", async () => {
    const { exited, out, err } = spawnCli([
      "sim",
      ...["--clock", "virtual", "--nodes", "4", "--duration", "5", "--settle", "1", "--report", "-"],
    ]);
    const code = await exited;
    expect(err()).not.toMatch(/cannot|Error/);
    expect(code).toBe(0);
    expect(JSON.parse(out())).toMatchObject({ scenario: { nodes: 4 } });
    expect(err()).toMatch(/registration\s+4\/4/);
  }, 60_000);
});
