/**
 * Merging shard reports (fleet/shard-merge.ts): sums, cross-shard latency on one clock, and the
 * shard files checked before they are merged.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { requirementFailures } from "../report.js";
import { mergeShardFiles, mergeShards } from "../shard-merge.js";
import { checkShardFile, type ShardFile, ShardFileError } from "../shard-report.js";
import { fleetOfTwo, pairing, SKEW } from "./ring-of-four.js";

describe("merging shard reports", () => {
  it("joins them: presses and deliveries are the shards' sums, cross-shard latency on one clock", () => {
    const r = mergeShards(["a.json", "b.json"], fleetOfTwo());
    expect(r.presses).toBe(2);
    // 3 followers per press, one of the second press's never applied.
    expect(r.deliveries).toBe(5);
    expect(r.lostForGood).toBe(1);
    expect(r.lost).toBe(1);
    expect(r.requirements.nothingLost).toBe(false);
    // Corrected by the offset: 80 ms, not 1080 ms.
    expect(r.sync.maxMs).toBeCloseTo(80, 0);
    expect(r.shards.crossShardPairs).toBe(4);
    expect(r.shards.crossShardSync.maxMs).toBeCloseTo(80, 0);
    expect(r.shards.offsetUncertaintyMaxMs).toBe(2);
    const [l1, l2] = r.shards.lines;
    expect(l1).toMatchObject({ shard: 1, file: "a.json", presses: 1, deliveries: 2, lost: 1, offsetMs: 0 });
    expect(l2).toMatchObject({
      shard: 2,
      file: "b.json",
      presses: 1,
      deliveries: 3,
      lost: 0,
      offsetMs: 1000,
    });
    expect((l1?.deliveries ?? 0) + (l2?.deliveries ?? 0)).toBe(r.deliveries);
    expect(r.registration).toMatchObject({ registered: 4, maxMs: 3000 });
    expect(r.scenario).toMatchObject({ nodes: 4, seed: "s", brokerKind: "external" });
    expect(r.diverged).toBe(1); // n-0000 holds its own press, not n-0001's newer one
    expect(r.divergedNodes).toEqual(["n-0000"]);
    expect(r.link.segments).toBe(20);
    expect(r.sim.lagP99Ms).toBe(20);
  });

  it("sums the presses the shards' button debounce ignored; none from reports before the count", () => {
    const [s1, s2] = fleetOfTwo();
    expect(mergeShards(["a", "b"], [s1, s2]).pressesIgnored).toBe(0);
    const ignored = (s: ShardFile, n: unknown) => ({
      ...s,
      counts: { ...s.counts, pressesIgnored: n as number },
    });
    expect(mergeShards(["a", "b"], [ignored(s1, 3), ignored(s2, 4)]).pressesIgnored).toBe(7);
    // A count that is no count adds none.
    expect(mergeShards(["a", "b"], [ignored(s1, "3"), ignored(s2, 4)]).pressesIgnored).toBe(4);
  });

  it("without the clock correction the cross-shard pairs would read a second late", () => {
    const [s1, s2] = fleetOfTwo();
    const noProbes = (s: ShardFile) => ({ ...s, probes: { ...s.probes, received: {} } });
    const r = mergeShards(["a", "b"], [noProbes(s1), noProbes(s2)]);
    expect(r.sync.maxMs).toBeGreaterThan(1000);
    expect(r.shards.offsetUncertaintyMaxMs).toBeNull();
  });

  it("a shard stopped for 20 s did not keep up, whatever its lag p99", () => {
    const [s1, s2] = fleetOfTwo();
    expect(mergeShards(["a", "b"], [s1, s2]).sim.keptUp).toBe(true);
    const stopped = { ...s2, sim: { ...s2.sim, lagP99Ms: 19.7, lagMaxMs: 20_015.2 } };
    const r = mergeShards(["a", "b"], [s1, stopped]);
    expect(r.sim).toMatchObject({ lagP99Ms: 19.7, lagMaxMs: 20_015.2, keptUp: false });
    expect(r.requirements.simulatorKeptUp).toBe(false);
  });

  it("takes the files in any order", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(["b", "a"], [s2, s1]);
    expect(r.deliveries).toBe(5);
    expect(r.shards.lines.map((l) => l.shard)).toEqual([1, 2]);
  });

  describe("refuses a bad set, naming the file and what is wrong", () => {
    const dir = mkdtempSync(join(tmpdir(), "shard-merge-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const put = (name: string, v: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, typeof v === "string" ? v : JSON.stringify(v));
      return p;
    };
    const [s1, s2] = fleetOfTwo();
    const a = put("a.json", s1);
    const b = put("b.json", s2);

    it.each([
      ["not JSON", () => [a, put("x.json", "{ nope")], /x\.json: not JSON/],
      [
        "cut short (a copy that did not finish)",
        () => [a, put("cut.json", JSON.stringify(s2).slice(0, 300))],
        /cut\.json: not JSON: it ends early, after 300 bytes \(cut short: a copy or a write that did not finish\?\)/,
      ],
      ["empty", () => [a, put("empty.json", "")], /empty\.json: not JSON: it is empty/],
      ["not an object", () => [a, put("arr.json", [1])], /arr\.json: not a shard report .* got array/],
      [
        "another kind of report (a newer shard format: report-format.test.ts)",
        () => [a, put("run.json", { ...s2, format: "twinfleet-run-report/1" })],
        /run\.json: format must be "twinfleet-shard-report\/1" .* got "twinfleet-run-report\/1"/,
      ],
      [
        "a field missing",
        () => [a, put("np.json", { ...s2, presses: undefined })],
        /np\.json: presses must be an array, got undefined/,
      ],
      [
        "a bad row",
        () => [a, put("row.json", { ...s2, applies: [["n-0001", "1@n-0000"]] })],
        /row\.json: applies\[0\] must be a row of 3/,
      ],
      [
        "different seeds",
        () => [a, put("seed.json", { ...s2, fleet: { ...s2.fleet, seed: "t", fingerprint: "beef" } })],
        /seed\.json: seed "t", but .*a\.json has "s"/,
      ],
      [
        "a different fleet",
        () => [a, put("fleet.json", { ...s2, fleet: { ...s2.fleet, fingerprint: "beef" } })],
        /fleet\.json: a different fleet from .*a\.json/,
      ],
      [
        "a shard of another run with the same flags",
        () => [
          a,
          put("later.json", {
            ...s2,
            startedAtMs: s2.startedAtMs + 400_000,
            pressStartMs: s2.pressStartMs + 400_000,
            endMs: s2.endMs + 400_000,
          }),
        ],
        /later\.json: its presses ran from .* to .*, and .*a\.json's from .*: not one run/,
      ],
      ["a duplicate shard", () => [a, put("a2.json", s1)], /a2\.json and .*a\.json are both shard 1 of 2/],
      ["a missing shard", () => [b], /shard 1 of 2 missing/],
      [
        "another shard count",
        () => [a, put("c3.json", { ...s2, shard: { index: 2, count: 3 } })],
        /c3\.json: shard 2 of 3, but .*a\.json is one of 2/,
      ],
      [
        "a bad stamp",
        () => [a, put("st.json", { ...s2, presses: [["n-0001", "x", 1]] })],
        /st\.json: "x" is not a stamp/,
      ],
      ["a missing file", () => [a, join(dir, "none.json")], /^cannot read \/.*\/none\.json: no such file$/],
    ])("%s", (_, files, msg) => {
      expect(() => mergeShardFiles(files())).toThrow(ShardFileError);
      expect(() => mergeShardFiles(files())).toThrow(msg);
    });

    it("and merges the good pair from disk", () => {
      expect(mergeShardFiles([a, b]).deliveries).toBe(5);
    });
  });
});

describe("the broker's outages over the shards", () => {
  /** Every node of `s` lost its session at `lostAt` and registered again at `backAt` (its shard's clock). */
  const timeline = (s: ShardFile, lostAt: number, backAt: number) => ({
    disconnects: Object.fromEntries(s.nodes.map((n) => [n, [lostAt]])),
    registrations: Object.fromEntries(s.nodes.map((n) => [n, [1000, backAt]])),
    offline: {},
  });
  const outage = (startMs: number, endMs: number, back = true) => ({
    atMs: 0,
    durationMs: endMs - startMs,
    back,
    nodes: 2,
    recoveryMs: null,
    disconnected: 2,
    reregisteredMaxMs: null,
    offlineDetectedMaxMs: null,
    pressesDuring: 0,
    lateBeyond5s: 0,
    lostForGood: 0,
    startMs,
    endMs,
  });

  it("one outage seen by both shards is one, on shard 1's clock, measured over the whole fleet", () => {
    const [s1, s2] = fleetOfTwo();
    // Shard 2 lost the broker 200 ms after shard 1 by its own clock (1000 ms ahead) and had it back later.
    const r = mergeShards(
      ["a", "b"],
      [
        { ...s1, brokerOutages: [outage(19_000, 21_000)], timeline: timeline(s1, 19_100, 22_500) },
        {
          ...s2,
          brokerOutages: [outage(19_200 + SKEW, 22_000 + SKEW)],
          timeline: timeline(s2, 19_100 + SKEW, 22_400 + SKEW),
        },
      ],
    );
    expect(r.brokerOutages).toHaveLength(1);
    // From shard 1's loss to shard 2's return; presses counted from the first shard's start (shard 2's, 4000 on shard 1's clock).
    expect(r.brokerOutages?.[0]).toMatchObject({
      atMs: 15_000,
      durationMs: 3000,
      back: true,
      shards: [1, 2],
      nodes: 4,
      disconnected: 4,
      reregisteredMaxMs: 500,
      // n-0001's press at 20 s never reached n-0000: lost for good, and in the outage.
      pressesDuring: 1,
      lostForGood: 1,
    });
    expect(requirementFailures(r)).toEqual(
      expect.arrayContaining([
        "1 (press, follower) deliveries lost for good (never reflected; 1 of them while the broker was lost)",
        "1 (press, follower) deliveries not reflected within 5 s; 1 of them while the broker was lost",
      ]),
    );
  });

  it("outages that do not overlap stay apart; one not back by its shard's end is not back", () => {
    const [s1, s2] = fleetOfTwo();
    const r = mergeShards(
      ["a", "b"],
      [
        { ...s1, brokerOutages: [outage(19_000, 21_000)] },
        { ...s2, brokerOutages: [outage(30_000 + SKEW, 90_000 + SKEW, false)] },
      ],
    );
    expect(r.brokerOutages?.map((o) => [o.atMs, o.durationMs, o.back, o.shards])).toEqual([
      [15_000, 2000, true, [1]],
      [26_000, 60_000, false, [2]],
    ]);
  });

  it("a shard report from before the fields still merges, as a shard that saw no outage", () => {
    const [s1, s2] = fleetOfTwo();
    expect("brokerOutages" in s1 || "timeline" in s1).toBe(false);
    expect(mergeShards(["a", "b"], [s1, s2]).brokerOutages).toBeUndefined();
    const r = mergeShards(["a", "b"], [s1, { ...s2, brokerOutages: [outage(30_000 + SKEW, 31_000 + SKEW)] }]);
    expect(r.brokerOutages?.[0]).toMatchObject({ shards: [2], disconnected: 0 });
  });

  it("refuses a malformed outage or timeline, naming the file", () => {
    const [, s2] = fleetOfTwo();
    expect(() => checkShardFile("o.json", { ...s2, brokerOutages: [{ startMs: "x" }] })).toThrow(
      /o\.json: brokerOutages\[0\] must have startMs, endMs \(numbers\) and back/,
    );
    expect(() => checkShardFile("p.json", { ...s2, fleetPairing: { "n-0001": [3] } })).toThrow(
      /p\.json: fleetPairing must map node ids to lists of node ids/,
    );
    expect(() =>
      checkShardFile("t.json", {
        ...s2,
        timeline: { disconnects: { "n-0001": ["x"] }, registrations: {}, offline: {} },
      }),
    ).toThrow(/t\.json: timeline\.disconnects must map node ids to lists of times/);
  });
});

describe("a shard that wrote no report (--partial)", () => {
  // The whole fleet's pairing, as every shard writes it.
  const withFleet = (s: ShardFile): ShardFile => ({ ...s, fleetPairing: pairing });

  it("is refused without --partial, naming the way", () => {
    const [s1] = fleetOfTwo();
    expect(() => mergeShards(["a"], [s1])).toThrow(
      /shard 2 of 2 missing: give every shard's report \(or --partial to merge the shards that wrote one\)/,
    );
  });

  it("leaves the missing shard's nodes out and judges the chains through them", () => {
    const [s1] = fleetOfTwo();
    const r = mergeShards(["a"], [withFleet(s1)], { partial: true });
    expect(r.shards.missing).toEqual([2]);
    expect(r.presses).toBe(1);
    // n-0002 follows n-0001 (shard 2) follows n-0000: that pair is judged, delivered at 60 ms; the
    // pairs to shard 2's nodes are in no figure.
    expect(r.deliveries).toBe(1);
    expect(r.lost).toBe(0);
    // Every figure covers shard 1's nodes, registration's too: it read 2/4, failed for the nodes of
    // the shard that wrote nothing (which --assert names as missing).
    expect(r.scenario).toMatchObject({ nodes: 2, fleetNodes: 4 });
    expect(r.registration.registered).toBe(2);
    expect(r.requirements.registrationUnder30s).toBe(true);
    expect(r.shards.lines.map((l) => l.shard)).toEqual([1]);
    // n-0002 holds n-0001's state, which no report shows: not judged diverged.
    expect(r.diverged).toBe(0);
    // Without the fleet's pairing (a report from before it) the chain is not known.
    expect(mergeShards(["a"], [s1], { partial: true }).deliveries).toBe(0);
  });

  it("still needs shard 1, whose clock the others are put on", () => {
    const [, s2] = fleetOfTwo();
    expect(() => mergeShards(["b"], [s2], { partial: true })).toThrow(
      /shard 1 of 2 missing: --partial needs shard 1's report/,
    );
  });
});

describe("ids in use over the shards", () => {
  it("sums the shards' clashing nodes, names the first ten, fails --assert; absent when none clashed", () => {
    const [s1, s2] = fleetOfTwo();
    expect(mergeShards(["a", "b"], [s1, s2]).sessionClashes).toBeUndefined();
    const r = mergeShards(
      ["a", "b"],
      [
        { ...s1, sessionClashes: { nodes: 1, closes: 40, ids: [NodeId("n-0002")], firstAtMs: 300 } },
        {
          ...s2,
          sessionClashes: {
            nodes: 2,
            closes: 90,
            ids: [NodeId("n-0001"), NodeId("n-0003")],
            firstAtMs: -200,
          },
        },
      ],
    );
    expect(r.sessionClashes).toEqual({
      nodes: 3,
      closes: 130,
      ids: ["n-0002", "n-0001", "n-0003"],
      firstAtMs: -200,
    });
    expect(requirementFailures(r)).toContainEqual(
      expect.stringMatching(/^3 nodes' sessions were taken over/),
    );
  });

  it("refuses a malformed one, naming the file", () => {
    const [, s2] = fleetOfTwo();
    expect(() => checkShardFile("c.json", { ...s2, sessionClashes: { nodes: 1, ids: [1] } })).toThrow(
      /c\.json: sessionClashes must have nodes, closes, firstAtMs \(numbers\) and ids \(strings\)/,
    );
  });

  it("sums the shards' nodes the broker closed right after their CONNACK apart from the clashes", () => {
    const [s1, s2] = fleetOfTwo();
    const cut = (id: string, firstAtMs: number) => ({ nodes: 1, closes: 9, ids: [NodeId(id)], firstAtMs });
    const r = mergeShards(
      ["a", "b"],
      [
        { ...s1, sessionsCutAtConnack: cut("n-0002", 100) },
        { ...s2, sessionsCutAtConnack: cut("n-0001", 50) },
      ],
    );
    expect(r.sessionClashes).toBeUndefined();
    expect(r.sessionsCutAtConnack).toEqual({
      nodes: 2,
      closes: 18,
      ids: ["n-0002", "n-0001"],
      firstAtMs: 50,
    });
    expect(requirementFailures(r)).toContainEqual(
      expect.stringMatching(/^2 nodes' sessions were closed by the broker right after it accepted them/),
    );
    expect(() => checkShardFile("d.json", { ...s2, sessionsCutAtConnack: { nodes: 1 } })).toThrow(
      /d\.json: sessionsCutAtConnack must have nodes, closes/,
    );
  });
});

describe("shards run with different options", () => {
  it.each([
    [
      "lossPct",
      10,
      /b: ran with --loss 10, but a with --loss 0: the shards of one fleet run with the same options/,
    ],
    ["profile", "ideal", /b: ran with --profile ideal, but a with --profile uno-w5100/],
    ["settleS", 3, /b: ran with --settle 3, but a with --settle 10/],
    ["prefix", "lab", /b: ran with --prefix lab, but a with --prefix fleet/],
  ])("refuses a shard with another %s, naming the flag and both values", (field, value, msg) => {
    const [s1, s2] = fleetOfTwo();
    const other = { ...s2, fleet: { ...s2.fleet, [field]: value } };
    expect(() => mergeShards(["a", "b"], [s1, other])).toThrow(msg);
    expect(() => mergeShards(["a", "b"], [s1, other])).toThrow(ShardFileError);
  });
});
