/**
 * The merge's check that one build ran every shard (fleet/shard-same.ts): on an upgrade day one host
 * runs the new build while another still runs the old, and each shard report names its build.
 */
import { describe, expect, it } from "vitest";
import { mergeShards } from "../shard-merge.js";
import { checkShardFile, type ShardFile, ShardFileError } from "../shard-report.js";
import { fleetOfTwo } from "./ring-of-four.js";

const NEW = "0.1.0+20261207.984dabc";
const OLD = "0.1.0+20261205.8ba977a";
const built = (s: ShardFile, build: string): ShardFile => ({ ...s, build });

describe("shards run by different builds", () => {
  it("merges shards that ran one build", () => {
    const [s1, s2] = fleetOfTwo();
    expect(mergeShards(["a", "b"], [built(s1, NEW), built(s2, NEW)]).deliveries).toBe(5);
  });

  it("refuses a shard of another build, naming both files and both builds", () => {
    const [s1, s2] = fleetOfTwo();
    const merge = () => mergeShards(["s1.json", "s2.json"], [built(s1, OLD), built(s2, NEW)]);
    expect(merge).toThrow(ShardFileError);
    expect(merge).toThrow(
      `s2.json: ran twinfleet ${NEW}, but s1.json ran twinfleet ${OLD}: the shards of one fleet run one build`,
    );
  });

  it("refuses a report of a build before reports named theirs beside one that names its build", () => {
    const [s1, s2] = fleetOfTwo();
    expect(() => mergeShards(["s1.json", "s2.json"], [s1, built(s2, NEW)])).toThrow(
      `s2.json: ran twinfleet ${NEW}, but s1.json ran a build from before shard reports named their build (7 December 2026)`,
    );
    expect(() => mergeShards(["s1.json", "s2.json"], [built(s1, NEW), s2])).toThrow(
      `s2.json: ran a build from before shard reports named their build (7 December 2026), but s1.json ran twinfleet ${NEW}`,
    );
  });

  it("merges reports that all name no build, as before", () => {
    const [s1, s2] = fleetOfTwo();
    expect(s1.build).toBeUndefined();
    expect(mergeShards(["a", "b"], [s1, s2]).deliveries).toBe(5);
  });

  it("merges builds whose names tell nothing of their sources (each host built a tarball)", () => {
    const [s1, s2] = fleetOfTwo();
    const tarball = (at: string) => `0.1.0+built.20261207T${at}Z`;
    expect(
      mergeShards(["a", "b"], [built(s1, tarball("081500")), built(s2, tarball("082000"))]).deliveries,
    ).toBe(5);
    expect(mergeShards(["a", "b"], [built(s1, "0.1.0+source"), built(s2, NEW)]).deliveries).toBe(5);
    expect(() => mergeShards(["a", "b"], [built(s1, `${OLD}.dirty`), built(s2, NEW)])).toThrow(
      ShardFileError,
    );
  });

  it("refuses a build that is not a string", () => {
    const [s1] = fleetOfTwo();
    expect(() => checkShardFile("s1.json", { ...s1, build: 7 })).toThrow(
      "s1.json: build must be a string, got number",
    );
  });
});
