/**
 * Which build of twinfleet this is: the package version (0.1.0 for every build) with the commit the
 * build was made from and that commit's date, recorded at build time (`npm run build`, also run by
 * `npm ci`'s prepare) in dist/build-id.json by scripts/build-id.mjs. Without git (sources from a
 * tarball) the build's own time stands in; run from the sources, with no build, it says so.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";

/** What a build recorded of itself. */
export interface BuildInfo {
  /** The commit's short hash, and its date (UTC, YYYYMMDD); absent without git. */
  readonly commit?: string;
  readonly commitDate?: string;
  /** Files tracked by git differed from the commit when it was built. */
  readonly dirty?: boolean;
  /** When it was built (UTC, YYYYMMDDTHHMMSSZ): only when there was no git to name the commit. */
  readonly builtAt?: string;
}

/**
 * The version `--version`, the reports and the logs give: `0.1.0+20261205.1a2b3c4` (the commit's
 * date and hash; `.dirty` when built from changed files), `0.1.0+built.20261205T141800Z` (no git),
 * or `0.1.0+source` (the sources run as they are, not a build). SemVer build metadata: the part
 * before the `+` is the package's version and orders releases; the rest names the build.
 */
export function buildVersion(packageVersion: string, b: BuildInfo | undefined): string {
  if (b?.commit !== undefined)
    return `${packageVersion}+${b.commitDate}.${b.commit}${b.dirty ? ".dirty" : ""}`;
  if (b?.builtAt !== undefined) return `${packageVersion}+built.${b.builtAt}`;
  return `${packageVersion}+source`;
}

/** The build's record at `file`; undefined when there is none (the sources run as they are). */
export function readBuildInfo(file: string | URL): BuildInfo | undefined {
  if (!existsSync(file)) return undefined;
  const v: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof v !== "object" || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === "string" && /^[0-9A-Za-z]+$/.test(r[k]) ? r[k] : undefined);
  const commit = str("commit");
  const commitDate = str("commitDate");
  const builtAt = str("builtAt");
  if (commit !== undefined && commitDate !== undefined)
    return { commit, commitDate, dirty: r.dirty === true };
  return builtAt === undefined ? undefined : { builtAt };
}

/**
 * The commit `dir` (the package's root) was checked out at, from git; undefined without git or when
 * `dir` is not the top of its own checkout (a package unpacked inside another project's repository
 * would name that project's commit).
 */
export function gitBuildInfo(dir: string): BuildInfo | undefined {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, TZ: "UTC" },
    }).trim();
  try {
    if (realpathSync(git("rev-parse", "--show-toplevel")) !== realpathSync(dir)) return undefined;
    const [commit, commitDate] = git("log", "-1", "--format=%h %cd", "--date=format-local:%Y%m%d").split(" ");
    if (!commit || !commitDate) return undefined;
    const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
    return { commit, commitDate, dirty };
  } catch {
    return undefined;
  }
}
