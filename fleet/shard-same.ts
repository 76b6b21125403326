/**
 * What every shard of one fleet shares beyond its fleet's fingerprint, checked by the merge: the
 * options the fingerprint leaves out, and the build of twinfleet that ran it (its report's `build`,
 * node/version.ts's VERSION). A shard's nodes, their link and the checker its presses are judged by
 * are its build's; on an upgrade day one host runs the new build while another still runs the old,
 * and their reports merged into figures of no build, under the merging build's name alone.
 */
import type { ShardFile } from "./shard-report.js";
import { ShardFileError } from "./shard-report.js";

/**
 * The fleet's settings the fingerprint leaves out, which the merged report states once for all
 * shards: a shard run with another loss, profile, settle or prefix merged under shard 1's.
 */
const SAME_FLAGS: readonly (readonly ["profile" | "lossPct" | "settleS" | "prefix", string])[] = [
  ["profile", "--profile"],
  ["lossPct", "--loss"],
  ["settleS", "--settle"],
  ["prefix", "--prefix"],
];

/** How a report without `build` is named: its build came before shard reports named theirs. */
const UNNAMED = "a build from before shard reports named their build (7 December 2026)";

const named = (build: string | undefined) => (build === undefined ? UNNAMED : `twinfleet ${build}`);

/**
 * A build named by its commit (`0.1.0+20261207.984dabc`, node/build-id.ts): two such names differ
 * only between builds of different sources. `+built.<time>` (sources without git: each host's own
 * build of one tarball names another time) and `+source` name no sources, and tell nothing.
 */
const byCommit = (build: string) => /\+\d{8}\.[0-9a-f]+(\.dirty)?$/.test(build);

/** Whether `a` and `b` are surely two builds: one named and one not, or two commits. */
function twoBuilds(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return false;
  if (a === undefined || b === undefined) return true;
  return byCommit(a) && byCommit(b);
}

/**
 * Throws (a usage error naming both files) when `f` ran with other options than `first`, or another
 * build. Reports that all name no build merge as before: nothing tells their builds apart.
 */
export function checkSameRun(path: string, f: ShardFile, firstPath: string, first: ShardFile): void {
  for (const [field, flag] of SAME_FLAGS)
    if (f.fleet[field] !== first.fleet[field])
      throw new ShardFileError(
        `${path}: ran with ${flag} ${f.fleet[field]}, but ${firstPath} with ${flag} ${first.fleet[field]}: the shards of one fleet run with the same options (all but --shard and --shard-report), or the merged report would describe a fleet none of them ran`,
      );
  if (twoBuilds(f.build, first.build))
    throw new ShardFileError(
      `${path}: ran ${named(f.build)}, but ${firstPath} ran ${named(first.build)}: the shards of one fleet run one build (its nodes, their link and the checker are the build's), or the merged report would give figures of no build; run every shard with the same build (twinfleet --version on each host)`,
    );
}
