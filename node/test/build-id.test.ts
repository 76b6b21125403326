/**
 * The build's identity (node/build-id.ts): builds of different commits give different versions —
 * every build used to say 0.1.0, so an operator with builds of 2, 3 and 5 December on one host could
 * not tell which one ran or wrote a file — and a build without git, or the sources run as they are,
 * say so rather than pass for one.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildVersion, gitBuildInfo, readBuildInfo } from "../build-id.js";
import { PACKAGE_VERSION, VERSION } from "../version.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "twinfleet-build-id-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** git in `cwd`, committing as of `date` (ISO, UTC) when given. */
function git(cwd: string, args: string[], date?: string): string {
  const env = { ...process.env, GIT_AUTHOR_DATE: date ?? "", GIT_COMMITTER_DATE: date ?? "" };
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], {
    cwd,
    env: date === undefined ? process.env : env,
    encoding: "utf8",
  }).trim();
}

function commit(file: string, text: string, date: string): string {
  writeFileSync(join(dir, file), text);
  git(dir, ["add", file]);
  git(dir, ["commit", "-q", "-m", text], date);
  return git(dir, ["rev-parse", "--short", "HEAD"]);
}

describe("a build's version", () => {
  it("names the commit and its date, so builds of different days differ", () => {
    git(dir, ["init", "-q"]);
    const first = commit("a.txt", "one", "2026-12-02T23:30:00Z");
    const v2 = buildVersion("0.1.0", gitBuildInfo(dir));
    expect(v2).toBe(`0.1.0+20261202.${first}`);
    const second = commit("a.txt", "two", "2026-12-05T08:00:00Z");
    const v5 = buildVersion("0.1.0", gitBuildInfo(dir));
    expect(v5).toBe(`0.1.0+20261205.${second}`);
    expect(v5).not.toBe(v2);
  });

  it("says .dirty when tracked files differ from the commit (untracked ones do not count)", () => {
    git(dir, ["init", "-q"]);
    const c = commit("a.txt", "one", "2026-12-03T10:00:00Z");
    writeFileSync(join(dir, "untracked.txt"), "x");
    expect(buildVersion("0.1.0", gitBuildInfo(dir))).toBe(`0.1.0+20261203.${c}`);
    writeFileSync(join(dir, "a.txt"), "changed");
    expect(buildVersion("0.1.0", gitBuildInfo(dir))).toBe(`0.1.0+20261203.${c}.dirty`);
  });

  it("has no commit without git, nor inside another project's repository (a package unpacked there)", () => {
    expect(gitBuildInfo(dir)).toBeUndefined();
    git(dir, ["init", "-q"]);
    commit("a.txt", "one", "2026-12-03T10:00:00Z");
    const inner = join(dir, "node_modules", "twinfleet");
    mkdirSync(inner, { recursive: true });
    expect(gitBuildInfo(inner)).toBeUndefined();
  });

  it("falls back to the build's time without git, and says 'source' with no build at all", () => {
    expect(buildVersion("0.1.0", { builtAt: "20261206T141800Z" })).toBe("0.1.0+built.20261206T141800Z");
    expect(buildVersion("0.1.0", undefined)).toBe("0.1.0+source");
    // The sources run here (no build): the package's version, marked so.
    expect(VERSION).toBe(`${PACKAGE_VERSION}+source`);
  });

  it("reads what the build recorded, and nothing from a missing or malformed record", () => {
    const file = join(dir, "build-id.json");
    expect(readBuildInfo(file)).toBeUndefined();
    writeFileSync(file, JSON.stringify({ commit: "1a2b3c4", commitDate: "20261205", dirty: false }));
    expect(buildVersion("0.1.0", readBuildInfo(file))).toBe("0.1.0+20261205.1a2b3c4");
    writeFileSync(file, JSON.stringify({ builtAt: "20261206T141800Z" }));
    expect(buildVersion("0.1.0", readBuildInfo(file))).toBe("0.1.0+built.20261206T141800Z");
    writeFileSync(file, JSON.stringify({ commit: "../x y", commitDate: "20261205" }));
    expect(readBuildInfo(file)).toBeUndefined();
  });
});
