// Pairing topologies: shapes per group, reach through chains and cycles, and pairing-file errors.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { buildPairing, fleetIds, followersReach, readPairingFile } from "../topology.js";

const ids = fleetIds(6);
const plain = (m: ReadonlyMap<string, readonly string[]>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, [...v]]));

describe("topologies", () => {
  it("names nodes in creation order", () => {
    expect(fleetIds(3)).toEqual(["n-0000", "n-0001", "n-0002"]);
    expect(fleetIds(12_000)[11_999]).toBe("n-11999");
  });

  it("makes rings of the group size", () => {
    expect(plain(buildPairing(ids, { kind: "ring", groupSize: 3 }))).toEqual({
      "n-0000": ["n-0002"],
      "n-0001": ["n-0000"],
      "n-0002": ["n-0001"],
      "n-0003": ["n-0005"],
      "n-0004": ["n-0003"],
      "n-0005": ["n-0004"],
    });
  });

  it("makes chains, pairs and stars", () => {
    expect(plain(buildPairing(ids, { kind: "chain", groupSize: 6 }))).toEqual({
      "n-0001": ["n-0000"],
      "n-0002": ["n-0001"],
      "n-0003": ["n-0002"],
      "n-0004": ["n-0003"],
      "n-0005": ["n-0004"],
    });
    expect(plain(buildPairing(ids.slice(0, 3), { kind: "pairs", groupSize: 2 }))).toEqual({
      "n-0000": ["n-0001"],
      "n-0001": ["n-0000"],
    });
    expect(plain(buildPairing(ids, { kind: "star", groupSize: 3 }))).toEqual({
      "n-0001": ["n-0000"],
      "n-0002": ["n-0000"],
      "n-0004": ["n-0003"],
      "n-0005": ["n-0003"],
    });
  });

  it("draws random groups reproducibly from the seed, never self, never over the limit", () => {
    const a = buildPairing(fleetIds(40), { kind: "random", groupSize: 10, follows: 3, seed: "s" });
    const b = buildPairing(fleetIds(40), { kind: "random", groupSize: 10, follows: 3, seed: "s" });
    expect(plain(a)).toEqual(plain(b));
    for (const [f, sources] of a) {
      expect(sources).toHaveLength(3);
      expect(sources).not.toContain(f);
      const group = Math.floor(Number(f.slice(2)) / 10);
      for (const s of sources) expect(Math.floor(Number(s.slice(2)) / 10)).toBe(group);
    }
  });

  it("computes reach through chains and stops at cycles", () => {
    const chain = followersReach(buildPairing(ids.slice(0, 3), { kind: "chain", groupSize: 3 }));
    expect(chain.get(ids[0] as never)?.sort()).toEqual(["n-0001", "n-0002"]);
    const ring = followersReach(buildPairing(ids.slice(0, 3), { kind: "ring", groupSize: 3 }));
    expect(ring.get(ids[1] as never)?.sort()).toEqual(["n-0000", "n-0002"]);
  });

  it("reads a pairing file and names what is wrong in a bad one", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-pair-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, body: string) => {
      const p = join(dir, name);
      writeFileSync(p, body);
      return p;
    };
    expect(plain(readPairingFile(file("ok.json", '{"n-0001":["n-0000"]}'), ids))).toEqual({
      "n-0001": ["n-0000"],
    });
    expect(() => readPairingFile(file("bad.json", "{"), ids)).toThrow(/bad.json, line 1: not valid JSON/);
    expect(() => readPairingFile(file("unknown.json", '{"n-0001":["zz"]}'), ids)).toThrow(
      /line 1: source zz of n-0001 is not a node of this fleet/,
    );
    expect(() => readPairingFile(file("self.json", '{"n-0001":["n-0001"]}'), ids)).toThrow(
      /cannot follow itself/,
    );
    expect(() => readPairingFile(file("id.json", '{"a b":["n-0001"]}'), ids)).toThrow(
      /line 1: follower "a b" is not a node id/,
    );
    expect(() =>
      readPairingFile(file("many.json", `{"n-0001":${JSON.stringify(fleetIds(9))}}`), ids),
    ).toThrow(/n-0001 follows 9 sources; at most 8/);
  });
});
