// The compiled command, as `npm start` runs it: built from the sources into a scratch dist tree, it
// finds its profiles and its JavaScript worker threads, runs a small fleet and exits 0.
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../node/paths.js";

const root = packageRoot();
const out = join(root, ".tmp", `dist-test-${process.pid}`);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the compiled CLI", () => {
  it("runs a small headless fleet from JavaScript", () => {
    execFileSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", out],
      {
        cwd: root,
      },
    );
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
    // Mostly the build: 49 s within the whole suite on a quiet host, over 120 s beside a second
    // suite's run; the time is not what is tested.
  }, 300_000);

  it("finds the sweep's scenarios from JavaScript", () => {
    const r = spawnSync(process.execPath, [join(out, "cli/bin.js"), "sweep", "--scenario", "nope"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    // Named scenarios are looked up in the package's profiles/scenarios, not under dist/.
    expect(r.stderr).toContain(`cannot read ${join(root, "profiles", "scenarios", "nope.json")}`);
  });
});
