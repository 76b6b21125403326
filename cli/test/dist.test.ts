// The compiled command, as `npm start` runs it: it finds its profiles and its JavaScript worker
// threads, runs a small fleet and exits 0. The package's own dist/ when it was built from the sources
// as they are (`npm ci` builds it); otherwise a scratch tree built from them.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../node/paths.js";
import { buildSources } from "../../node/test/build-sources.js";

const root = packageRoot();
const scratch = join(root, ".tmp", `dist-test-${process.pid}`);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The sources under `from` whose output in `dist` is missing or older (none: dist is current). */
function staleOutputs(sources: readonly string[], from: string, dist: string): string[] {
  const mtime = (f: string) => statSync(f, { throwIfNoEntry: false })?.mtimeMs;
  return sources.filter((src) => {
    const built = mtime(join(dist, relative(from, src).replace(/\.ts$/, ".js")));
    return built === undefined || built < (mtime(src) ?? Number.POSITIVE_INFINITY);
  });
}

/** dist/ when it is current, else a scratch tree tsc builds now (a minute on a loaded host). */
function compiled(): string {
  const dist = join(root, "dist");
  if (staleOutputs(buildSources(root), root, dist).length === 0) return dist;
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", scratch],
    { cwd: root },
  );
  return scratch;
}

let out = "";

describe("whether dist/ is current", () => {
  it("is not when an output is missing or older than its source", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-dist-"));
    try {
      const src = (f: string) => join(dir, f);
      mkdirSync(join(dir, "dist"));
      for (const f of ["a.ts", "b.ts", "c.ts", "dist/a.js", "dist/b.js"]) writeFileSync(src(f), "");
      const old = new Date(Date.parse("2026-01-01T00:00:00Z"));
      utimesSync(src("dist/b.js"), old, old); // b.ts is newer than its output; c.ts has none
      const sources = ["a.ts", "b.ts", "c.ts"].map(src);
      expect(staleOutputs(sources, dir, join(dir, "dist"))).toEqual([src("b.ts"), src("c.ts")]);
      expect(staleOutputs([src("a.ts")], dir, join(dir, "dist"))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the compiled CLI", () => {
  it("runs a small headless fleet from JavaScript", () => {
    out = compiled();
    const r = spawnSync(
      process.execPath,
      [
        join(out, "cli/bin.js"),
        "sim",
        "--nodes",
        "6",
        "--group-size",
        "3",
        "--rate",
        "30",
        "--duration",
        "3",
        "--settle",
        "1",
        "--headless",
        "--workers",
        "2",
      ],
      { cwd: root, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.stderr).not.toMatch(/Error|cannot read/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/6 nodes \(uno-w5100\)/);
    expect(r.stdout).toMatch(/registration\s+6\/6/);
    // A scratch build took 49 s within the whole suite on a quiet host, over 120 s beside a second
    // suite's run; the time is not what is tested.
  }, 300_000);

  it("finds the sweep's scenarios from JavaScript", () => {
    const r = spawnSync(process.execPath, [join(out, "cli/bin.js"), "sweep", "--scenario", "nope"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    // Named scenarios are looked up in the package's profiles/scenarios, not under dist/: the names
    // listed are the files there.
    expect(r.stderr).toContain('--scenario: no scenario "nope": the scenarios are faults, paper, settings');
  });
});
