// `twinfleet report show FILE`: a saved run report's summary printed again, the very one the run
// printed at its end; a file missing, not JSON or not a run report (a shard's, any other JSON) is
// refused naming the file and why, exit 2; one in a newer report format naming the build that wrote
// it, exit 1; one written before reports had a format (fixtures/run-report-202e2ee.*) is format 1.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { RUN_REPORT_FORMAT } from "../../fleet/report-format.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import type { UserStream } from "../../protocol/user-file.js";
import { main } from "../main.js";
import { VERSION } from "../version.js";

/** stdin holding `text`, in chunks as a pipe gives it; `tty`: a terminal. */
const stdinOf = (text: string, tty = false): UserStream =>
  Object.assign(Readable.from([Buffer.from(text.slice(0, 7)), Buffer.from(text.slice(7))]), { isTTY: tty });

const dir = mkdtempSync(join(tmpdir(), "tf-report-show-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], stdin?: UserStream) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), env: {}, stdin };
  const code = await main(argv, io);
  return { code, out: out.join(""), err: err.join("") };
}

describe("twinfleet report show", () => {
  it("prints the summary the run printed at its end", async () => {
    const file = join(dir, "r.json");
    const args = ["sim", "--clock", "virtual", "--headless", "--nodes", "6", "--duration", "20"];
    const ran = await run([...args, "--rate", "30", "--loss", "10", "--seed", "show", "--report", file]);
    expect(ran.code).toBe(0);
    expect(ran.out).toContain("sync latency");
    const shown = await run(["report", "show", file]);
    expect(shown.code).toBe(0);
    expect(shown.out).toBe(ran.out);
    expect(JSON.parse(readFileSync(file, "utf8")).format).toBe(RUN_REPORT_FORMAT);
  });

  it("prints each time the run's claim on its ids was not held, from the report's claim section", async () => {
    const file = join(dir, "claim.json");
    const args = ["sim", "--clock", "virtual", "--headless", "--nodes", "4", "--duration", "5"];
    expect((await run([...args, "--report", file])).code).toBe(0);
    const plain = await run(["report", "show", file]);
    expect(plain.out).not.toContain("claim lost");
    const report = JSON.parse(readFileSync(file, "utf8"));
    report.claim = {
      topic: "tf/claim/d0ee6a39f6a1",
      losses: [
        { atMs: 10_281.4, why: "cleared", heldAgainAfterMs: 307.3 },
        {
          atMs: 23_559.3,
          why: "cleared",
          takenBy: { topic: "tf/claim/16b0566cef43", ids: 20, afterMs: 300.8 },
        },
        { atMs: 40_000, why: "connection", untilEndMs: 61_000 },
      ],
    };
    writeFileSync(file, JSON.stringify(report));
    const shown = await run(["report", "show", file]);
    expect(shown.code).toBe(0);
    expect(shown.out.split("\n").filter((l) => l.includes("claim lost"))).toEqual([
      "       claim lost     at 10.3 s (cleared on the broker, its connection up), held again 0.3 s later",
      "       claim lost     at 23.6 s (cleared on the broker, its connection up), another run claimed 20 of the ids 0.3 s later (tf/claim/16b0566cef43): left to it, both runs' nodes on those ids",
      "       claim lost     at 40.0 s (its connection to the broker lost), not held again by the end (61.0 s): the ids unclaimed until then",
    ]);
  });

  it("prints a merged report's summary with its shards' lines, as report merge printed it", async () => {
    const [s1, s2] = fleetOfTwo();
    const a = join(dir, "s1.json");
    const b = join(dir, "s2.json");
    writeFileSync(a, JSON.stringify(s1));
    writeFileSync(b, JSON.stringify(s2));
    const fleet = join(dir, "fleet.json");
    const merged = await run(["report", "merge", a, b, "--out", fleet]);
    expect(merged.code).toBe(0);
    expect(merged.out).toContain("shards         2");
    const shown = await run(["report", "show", fleet]);
    expect(shown.code).toBe(0);
    expect(shown.out).toBe(merged.out);
    expect(JSON.parse(readFileSync(fleet, "utf8")).format).toBe(RUN_REPORT_FORMAT);
  });

  it("shows a report written before reports had a format as the build that wrote it showed it", async () => {
    const fixture = new URL("fixtures/run-report-202e2ee.json", import.meta.url);
    expect(JSON.parse(readFileSync(fixture, "utf8")).format).toBeUndefined();
    const shown = await run(["report", "show", fixture.pathname]);
    expect(shown.err).toBe("");
    expect(shown.code).toBe(0);
    expect(shown.out).toBe(readFileSync(new URL("fixtures/run-report-202e2ee.txt", import.meta.url), "utf8"));
  });

  it("refuses a report in a newer format, naming the build that wrote it, exit 1", async () => {
    const saved = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    // As a newer build might write it: a field renamed, sync in seconds, a section this build does not know.
    const { lostForGood, ...rest } = saved;
    const newer = {
      ...rest,
      format: "twinfleet-run-report/2",
      lostPairs: lostForGood,
      sync: { p50S: 0.005, p90S: 0.008, p99S: 0.009, maxS: 0.01 },
      energy: { mWh: 12 },
      versions: { ...saved.versions, twinfleet: "0.1.0+20261220.abcdef1" },
    };
    const file = join(dir, "newer.json");
    writeFileSync(file, JSON.stringify(newer));
    const message = `is a run report in format 2, written by a newer twinfleet (build 0.1.0+20261220.abcdef1); this one reads formats up to 1: show it with that build or a later one (this is ${VERSION})`;
    for (const [argv, stdin, at] of [
      [["report", "show", file], undefined, file],
      [["report", "show", "-"], stdinOf(JSON.stringify(newer)), "stdin"],
    ] as const) {
      const r = await run([...argv], stdin);
      expect(r.err, at).toBe(`twinfleet report show: ${at} ${message}\n`);
      expect(r.code, at).toBe(1);
      expect(r.out, at).toBe("");
    }
    // The same in this build's format is shown, its unknown section passed over.
    writeFileSync(file, JSON.stringify({ ...saved, energy: { mWh: 12 } }));
    expect((await run(["report", "show", file])).code).toBe(0);
  });

  it("refuses what it cannot show, naming the file and why, exit 2", async () => {
    const saved = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    const write = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    const cases: [string, string][] = [
      [join(dir, "missing.json"), "missing.json: no such file"],
      [write("cut.json", '{"scenario": {'), "cut.json: not JSON: it ends early"],
      [
        write("list.json", "[1, 2]"),
        "list.json: is not a run report (written by twinfleet sim --report FILE",
      ],
      [
        write("other.json", '{"name": "x"}'),
        "other.json: is not a run report (written by twinfleet sim --report FILE or twinfleet report merge --out FILE): it has no scenario",
      ],
      [write("shard.json", '{"format": "twinfleet-shard-report/1"}'), "shard.json: is one shard's report"],
      [
        write("bent.json", JSON.stringify({ ...saved, sync: {} })),
        "bent.json: is not a run report this version can read",
      ],
    ];
    for (const [file, message] of cases) {
      const r = await run(["report", "show", file]);
      expect(r.code, file).toBe(2);
      expect(r.err, file).toContain(message);
      expect(r.out, file).toBe("");
    }
  });

  it("reads the report from stdin for -, refusing what it cannot show as it refuses a file's", async () => {
    const file = join(dir, "piped.json");
    const args = ["sim", "--clock", "virtual", "--headless", "--nodes", "4", "--duration", "10"];
    expect((await run([...args, "--seed", "piped", "--report", file])).code).toBe(0);
    const fromFile = await run(["report", "show", file]);
    const piped = await run(["report", "show", "-"], stdinOf(readFileSync(file, "utf8")));
    expect(piped.code).toBe(0);
    expect(piped.out).toBe(fromFile.out);
    const cases: [UserStream, string][] = [
      [stdinOf(""), "stdin: not JSON: it is empty"],
      [stdinOf('{"scenario": {'), "stdin: not JSON: it ends early"],
      [stdinOf('{"name": "x"}'), "stdin: is not a run report (written by twinfleet sim --report FILE"],
      [stdinOf("{}", true), "cannot read stdin: it is a terminal: pipe the file in, or name it instead of -"],
    ];
    for (const [stdin, message] of cases) {
      const r = await run(["report", "show", "-"], stdin);
      expect(r.code, message).toBe(2);
      expect(r.err, message).toContain(message);
      expect(r.out, message).toBe("");
    }
  });
});
