// `twinfleet sweep --resume`: a sweep stopped after some points, resumed in the same --out, keeps
// them, runs only the rest and writes what the sweep run at once writes; another sweep's report,
// or one an older twinfleet wrote, is refused naming why. A cut-short sweep's CSVs say so first.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { writeSweep } from "../../sweep/files.js";
import { adjustScenario, loadScenario } from "../../sweep/scenario.js";
import { runSweep } from "../../sweep/sweep.js";
import { main } from "../main.js";

const TINY = {
  name: "tiny",
  fleet: {
    nodes: 4,
    seconds: 3,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 60,
    profile: "uno-w5100",
    seed: "resume",
  },
  loss: { levelsPct: [0, 10, 20] },
  settings: { lossPct: [10], variants: [{ name: "base", how: "as shipped", overrides: {} }] },
};

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) },
  };
}

/** report.json without what says when it ran and for how long. */
function figures(dir: string): unknown {
  const { startedAt: _s, wallS: _w, resumed: _r, ...rest } = JSON.parse(read(dir, "report.json"));
  return rest;
}

function read(dir: string, name: string): string {
  return readFileSync(join(dir, name), "utf8");
}

describe("twinfleet sweep --resume", () => {
  it("keeps the points a stopped sweep finished, runs the rest, and writes the sweep run at once", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-resume-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, "tiny.json");
    writeFileSync(file, JSON.stringify(TINY));
    const once = join(root, "once");
    const cut = join(root, "cut");
    const args = (out: string) => ["sweep", "--clock", "virtual", "--scenario", file, "--out", out];

    const a = capture();
    expect(await main(args(once), a.io)).toBe(0);
    // The summary says which clock its figures are on.
    expect(a.out.join("")).toContain(
      "\nevery fleet point on virtual time (--clock virtual): the model's figures, without the host's delays\n",
    );

    // The same sweep, stopped as its second point ends (as Ctrl-C during it), as the CLI writes it.
    const stop = new AbortController();
    const stopped = await runSweep([adjustScenario(loadScenario(file), { quick: false })], {
      quick: false,
      clock: "virtual",
      signal: stop.signal,
      onPoint: (p) => {
        if (p.index === 2) stop.abort();
      },
    });
    expect(stopped.cutShort).toEqual({ done: 2, of: 4 });
    writeSweep(cut, stopped);
    // Each CSV of the cut-short sweep says so on its first line, before the header.
    for (const name of ["loss.csv", "cpu.csv", "settings.csv", "faults.csv"]) {
      const [first, header] = read(cut, name).split("\n");
      expect(first).toBe(
        "# CUT SHORT: 2 of 4 points run - stopped (Ctrl-C) - this file holds those only - twinfleet sweep --resume with the same flags runs the rest",
      );
      expect(first).not.toMatch(/[,;]/);
      expect(header).toBe(read(once, name).split("\n")[0]);
    }

    const b = capture();
    expect(await main([...args(cut), "--resume"], b.io)).toBe(0);
    const said = b.err.join("");
    expect(said).toContain(
      "4 points, resumed: 2 kept (tiny: 0% loss … tiny: 10% loss), 2 to run from tiny: 20% loss, about ",
    );
    // Only the rest ran: progress lines for points 3 and 4, none for 1 and 2.
    expect(said.match(/^\[ ?\d+\/4\]/gm)).toEqual(["[ 3/4]", "[ 4/4]"]);
    expect(figures(cut)).toEqual(figures(once));
    const resumed = JSON.parse(read(cut, "report.json"));
    expect(resumed.cutShort).toBeUndefined();
    expect(resumed.startedAt).toBe(stopped.startedAt);
    expect(resumed.resumed).toEqual([{ at: expect.any(String), kept: 2 }]);
    // Byte for byte, but for the wall-time fields.
    const wall = /^ {2}"(startedAt|wallS)": .*\n/gm;
    const noResumed = /,\n {2}"resumed": \[[^\]]*\]/;
    expect(read(cut, "report.json").replace(wall, "").replace(noResumed, "")).toBe(
      read(once, "report.json").replace(wall, ""),
    );
    for (const name of ["loss.csv", "cpu.csv", "settings.csv", "faults.csv"])
      expect(read(cut, name)).toBe(read(once, name));
    const page = (dir: string) => read(dir, "report.html").replace(/<p class="how">\d{4}-[^<]*<\/p>/, "");
    expect(page(cut)).toBe(page(once));
    // The page says the sweep was run in two parts (its kept points under the first run's load).
    expect(read(cut, "report.html")).toMatch(
      /s wall over 2 runs \(resumed \d{4}-[^ ]+ with 2 points kept: a kept point/,
    );
    expect(read(once, "report.html")).not.toContain("resumed");
    expect(b.out.join("").replace(/wrote .*/, "")).toBe(a.out.join("").replace(/wrote .*/, ""));

    // Resumed again once whole: nothing runs, nothing changes.
    const c = capture();
    expect(await main([...args(cut), "--resume"], c.io)).toBe(0);
    expect(c.err.join("")).toContain(
      "resumed: 4 kept (tiny: 0% loss … tiny: base at 10% loss), nothing left to run",
    );
    expect(figures(cut)).toEqual(figures(once));
  });

  it("refuses, with exit 2 and before any point, another sweep's report, an older one, or none", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-resume-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, "tiny.json");
    writeFileSync(file, JSON.stringify(TINY));
    const cut = join(root, "cut");
    const stop = new AbortController();
    stop.abort();
    writeSweep(
      cut,
      await runSweep([adjustScenario(loadScenario(file), { quick: false })], {
        quick: false,
        clock: "virtual",
        signal: stop.signal,
      }),
    );
    const base = ["sweep", "--clock", "virtual", "--scenario", file, "--out", cut, "--resume"];
    const refusal = async (args: string[]) => {
      const r = capture();
      expect(await main(args, r.io)).toBe(2);
      expect(r.err.join("")).not.toMatch(/^\[/m);
      return r.err.join("");
    };
    expect(await refusal([...base, "--nodes", "6"])).toContain(
      `--resume: ${join(cut, "report.json")} is another sweep: scenario tiny: fleet.nodes was 4, this run has 6 (--nodes, --quick); resume with the flags it was run with, or use another --out`,
    );
    expect(await refusal([...base, "--quick"])).toContain("--quick: it was run without it, this run with");
    expect(await refusal([...base.slice(0, 1), ...base.slice(3)])).toContain(
      "--clock: it ran on virtual time, this run asks real",
    );
    expect(await refusal([...base.slice(0, 3), "--scenario", "paper", ...base.slice(5)])).toContain(
      "--scenario: it ran tiny, this run asks paper",
    );
    const seeded = join(root, "seeded.json");
    writeFileSync(seeded, JSON.stringify({ ...TINY, fleet: { ...TINY.fleet, seed: "other" } }));
    expect(await refusal([...base.slice(0, 3), "--scenario", seeded, ...base.slice(5)])).toContain(
      'scenario tiny: fleet.seed was "resume", this run has "other" (its scenario file, or --quick)',
    );
    // A report an older twinfleet wrote (no format, no plan).
    const old = JSON.parse(read(cut, "report.json"));
    const { format: _f, plan: _p, twinfleet: _t, ...older } = old;
    writeFileSync(join(cut, "report.json"), JSON.stringify(older));
    expect(await refusal(base)).toContain(
      "was written by an older twinfleet (report format 1), which this one (format 2) cannot resume: run the sweep again without --resume",
    );
    // A newer twinfleet's (a rollback): not to be run again over its points.
    writeFileSync(join(cut, "report.json"), JSON.stringify({ ...old, format: 3, twinfleet: "9.0.0" }));
    expect(await refusal(base)).toContain(
      "is in report format 3, written by a newer twinfleet (9.0.0); this one reads format 2: resume it with the twinfleet that wrote it",
    );
    writeFileSync(join(cut, "report.json"), JSON.stringify({ ...old, twinfleet: "0.0.1" }));
    expect(await refusal(base)).toMatch(
      /was written by twinfleet 0\.0\.1, this is \S+: its points may differ/,
    );
    writeFileSync(join(cut, "report.json"), "{");
    expect(await refusal(base)).toContain(`--resume: ${join(cut, "report.json")} is not JSON`);
    // Cut short (a copy that did not finish): said so, where the parser's words do not.
    writeFileSync(join(cut, "report.json"), JSON.stringify(old).slice(0, 200));
    expect(await refusal(base)).toContain(
      `--resume: ${join(cut, "report.json")} is not JSON: it ends early, after 200 bytes (cut short: a copy or a write that did not finish?)`,
    );
    rmSync(join(cut, "report.json"));
    expect(await refusal(base)).toContain(
      `--resume: cannot read ${join(cut, "report.json")}: no such file (the report of the sweep to resume, in --out)`,
    );
  });

  it("refuses a kept point that does not hold its figures, naming it, before running the rest", async () => {
    const root = mkdtempSync(join(tmpdir(), "tf-sweep-resume-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, "tiny.json");
    writeFileSync(file, JSON.stringify(TINY));
    const cut = join(root, "cut");
    const stop = new AbortController();
    const stopped = await runSweep([adjustScenario(loadScenario(file), { quick: false })], {
      quick: false,
      clock: "virtual",
      signal: stop.signal,
      onPoint: (p) => {
        if (p.index === 2) stop.abort();
      },
    });
    writeSweep(cut, stopped);
    const whole = read(cut, "report.json");
    const args = ["sweep", "--clock", "virtual", "--scenario", file, "--out", cut, "--resume"];
    const edits: [string, (r: { scenarios: { loss: Record<string, unknown>[] }[] }) => void][] = [
      [
        "point 2 of 4 (tiny: 10% loss) has no sync (was it edited?)",
        (r) => delete r.scenarios[0]?.loss[1]?.sync,
      ],
      [
        'point 1 of 4 (tiny: 0% loss) has sim.keptUp string ("yes"), where a boolean belongs',
        (r) => Object.assign(r.scenarios[0]?.loss[0]?.sim as object, { keptUp: "yes" }),
      ],
      [
        "point 1 of 4 (tiny: 0% loss) has echo.p99 null, where a number belongs",
        (r) => Object.assign(r.scenarios[0]?.loss[0]?.echo as object, { p99: null }),
      ],
    ];
    for (const [said, edit] of edits) {
      const r = JSON.parse(whole);
      edit(r);
      const edited = JSON.stringify(r);
      writeFileSync(join(cut, "report.json"), edited);
      const c = capture();
      expect(await main(args, c.io)).toBe(2);
      const err = c.err.join("");
      expect(err).toContain(`--resume: ${join(cut, "report.json")} ${said}`);
      expect(err).toContain(
        "put back the report as the sweep wrote it, or run the sweep again without --resume",
      );
      expect(err).not.toMatch(/^\[/m); // no point ran
      expect(read(cut, "report.json")).toBe(edited); // left as it was
    }
    // As written, it resumes.
    writeFileSync(join(cut, "report.json"), whole);
    expect(await main(args, capture().io)).toBe(0);
  });
});
