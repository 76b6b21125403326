// The report formats' check (fleet/report-format.ts): a shard report in a newer format is refused by
// its format and the build that wrote it, a NewerReportError (exit 1), not as a file that is no
// shard report; the format names are read by kind and number.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VERSION } from "../../node/version.js";
import { NewerReportError, parseReportFormat, RUN_REPORT_FORMAT } from "../report-format.js";
import { mergeShardFiles } from "../shard-merge.js";
import { SHARD_REPORT_FORMAT, ShardFileError } from "../shard-report.js";
import { fleetOfTwo } from "./ring-of-four.js";

describe("report formats", () => {
  const dir = mkdtempSync(join(tmpdir(), "report-format-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (name: string, v: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(v));
    return p;
  };
  const [s1, s2] = fleetOfTwo();
  const a = put("a.json", s1);

  it("refuses a shard report in a newer format by its format and the build that wrote it", () => {
    const v2 = put("v2.json", { ...s2, format: "twinfleet-shard-report/2", build: "0.1.0+20261220.abcdef1" });
    expect(() => mergeShardFiles([a, v2])).toThrow(NewerReportError);
    expect(() => mergeShardFiles([a, v2])).toThrow(
      `${v2} is a shard report in format 2, written by a newer twinfleet (build 0.1.0+20261220.abcdef1); this one reads formats up to 1: merge the shards' reports with that build or a later one (this is ${VERSION})`,
    );
    // One naming no build.
    const { build: _, ...unnamed } = { ...s2, format: "twinfleet-shard-report/3" };
    expect(() => mergeShardFiles([a, put("v3.json", unnamed)])).toThrow(
      /v3\.json is a shard report in format 3, written by a newer twinfleet; this one reads formats up to 1/,
    );
    // This build's format merges; one that is no format at all is a bad file, as before.
    expect(mergeShardFiles([a, put("b.json", s2)]).format).toBe(RUN_REPORT_FORMAT);
    expect(() => mergeShardFiles([a, put("x.json", { ...s2, format: "twinfleet-shard-report/x" })])).toThrow(
      ShardFileError,
    );
  });

  it("reads a format's kind and number, and nothing else", () => {
    expect(parseReportFormat(RUN_REPORT_FORMAT)).toEqual({ kind: "run", n: 1 });
    expect(parseReportFormat(SHARD_REPORT_FORMAT)).toEqual({ kind: "shard", n: 1 });
    expect(parseReportFormat("twinfleet-run-report/12")).toEqual({ kind: "run", n: 12 });
    for (const v of [
      undefined,
      2,
      "twinfleet-run-report/0",
      "twinfleet-run-report/",
      "twinfleet-sweep/2",
      "x",
    ])
      expect(parseReportFormat(v), String(v)).toBeUndefined();
  });
});
