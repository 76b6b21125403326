// `twinfleet report show FILE`: a saved run report's summary printed again, the very one the run
// printed at its end; a file missing, not JSON, not a run report (a shard's, any other JSON) or
// written by a newer twinfleet is refused naming the file and why, exit 2.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import type { UserStream } from "../../protocol/user-file.js";
import { newer } from "../commands/report-show.js";
import { main } from "../main.js";

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
        write(
          "newer.json",
          JSON.stringify({ ...saved, versions: { ...saved.versions, twinfleet: "99.0.0" } }),
        ),
        "newer.json: was written by twinfleet 99.0.0, newer than this one",
      ],
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

  it("weighs versions by their numbers", () => {
    expect(newer("0.10.0", "0.9.1")).toBe(true);
    expect(newer("0.1.0", "0.1.0+source")).toBe(false);
    expect(newer("0.1.1", "0.1.0+source")).toBe(true);
    expect(newer("0.0.9", "0.1.0")).toBe(false);
  });
});
