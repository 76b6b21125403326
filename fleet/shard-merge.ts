/**
 * `twinfleet report merge`: joins the shard reports of one fleet into one fleet report. It checks
 * the set (same fleet and seed, every shard once), puts every shard's times on shard 1's clock with
 * the measured offsets (fleet/shard-offsets.ts), and replays every press and applied state of every
 * shard, in time order, through the same versioned checker a single-process run uses
 * (fleet/shard-replay.ts) — so sync latency, late and lost cover every pair, the pairs that cross
 * shards included. Registration,
 * histograms, counts and the nodes' final states (divergence) are joined, and the shards' broker
 * outages (fleet/shard-outages.ts); each shard gets a line.
 */

import { maxOf } from "../node/extremes.js";
import type { NodeId, Stamp } from "../protocol/index.js";
import type { SyncChecker } from "../sim/checker.js";
import { Distribution } from "../sim/histogram.js";
import { followersReach } from "../sim/topology.js";
import { displayUrl } from "../twins/index.js";
import { cpuDistribution, cpuFigures } from "./cpu-figures.js";
import { divergedNodes, type FinalState } from "./divergence.js";
import { keptUp } from "./lag.js";
import {
  checkRequirements,
  type MergedReport,
  type Report,
  round,
  type ShardLine,
  syncFields,
} from "./report.js";
import { RUN_REPORT_FORMAT } from "./report-format.js";
import type { SessionClashReport } from "./session-clashes.js";
import { mergeShardClaims } from "./shard-claims.js";
import { mergeHeld } from "./shard-held.js";
import { mergeShardMoved } from "./shard-moved.js";
import { crossShardErrorMaxMs, shardOffsets } from "./shard-offsets.js";
import { mergedOutages, mergedStalls } from "./shard-outages.js";
import { checkerKey, parseStamp, replayShards } from "./shard-replay.js";
import { readShardFile, type ShardFile, ShardFileError } from "./shard-report.js";
import { checkSameRun } from "./shard-same.js";
import { versions } from "./summarize.js";
import { linkTotals } from "./tally.js";
import { shardsThreadDied } from "./thread-death.js";

/** How to merge: `partial` merges the shards that wrote a report when some did not (shard 1 must have). */
export interface MergeOptions {
  readonly partial?: boolean;
}

/**
 * Checks that `files` are every shard of one fleet, once each (with `partial`, some of them, shard 1
 * among them); the error names the files. Returns the shards missing.
 */
export function checkShardSet(
  paths: readonly string[],
  files: readonly ShardFile[],
  opts: MergeOptions = {},
): number[] {
  const first = files[0];
  const firstPath = paths[0];
  if (first === undefined || firstPath === undefined) throw new ShardFileError("no shard report to merge");
  const seen = new Map<number, string>();
  files.forEach((f, i) => {
    const path = paths[i] as string;
    if (f.fleet.seed !== first.fleet.seed)
      throw new ShardFileError(
        `${path}: seed ${JSON.stringify(f.fleet.seed)}, but ${firstPath} has ${JSON.stringify(first.fleet.seed)}: shards of one fleet share the seed`,
      );
    if (f.fleet.fingerprint !== first.fleet.fingerprint)
      throw new ShardFileError(
        `${path}: a different fleet from ${firstPath} (fingerprint ${f.fleet.fingerprint}, not ${first.fleet.fingerprint}): nodes, topology, group size, rate or duration differ`,
      );
    checkSameRun(path, f, firstPath, first);
    if (f.shard.count !== first.shard.count)
      throw new ShardFileError(
        `${path}: shard ${f.shard.index} of ${f.shard.count}, but ${firstPath} is one of ${first.shard.count}`,
      );
    // Shards of one run press at the same time: reports of two runs with the same flags (the same
    // seed and fleet) merged into figures of no run at all, with no word said.
    if (f.pressStartMs > first.endMs + RUN_SLACK_MS || f.endMs < first.pressStartMs - RUN_SLACK_MS)
      throw new ShardFileError(
        `${path}: its presses ran from ${iso(f.pressStartMs)} to ${iso(f.endMs)}, and ${firstPath}'s from ${iso(first.pressStartMs)} to ${iso(first.endMs)}: not one run (the shards of a run press together); give the reports of one run`,
      );
    const dup = seen.get(f.shard.index);
    if (dup !== undefined)
      throw new ShardFileError(
        `${path} and ${dup} are both shard ${f.shard.index} of ${f.shard.count}: give each shard's report once`,
      );
    seen.set(f.shard.index, path);
  });
  const missing: number[] = [];
  for (let k = 1; k <= first.shard.count; k++) if (!seen.has(k)) missing.push(k);
  const which = `shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${first.shard.count}`;
  if (missing.length > 0 && opts.partial !== true)
    throw new ShardFileError(
      `${which} missing: give every shard's report (or --partial to merge the shards that wrote one)`,
    );
  if (missing.includes(1))
    throw new ShardFileError(
      `${which} missing: --partial needs shard 1's report, as the other shards' clocks are put on its`,
    );
  const total = files.reduce((n, f) => n + f.nodes.length, 0);
  if (missing.length === 0 && total !== first.fleet.nodes)
    throw new ShardFileError(
      `the shards hold ${total} nodes between them, but the fleet has ${first.fleet.nodes}`,
    );
  return missing;
}

/** Presses begun further apart than this (a pair's lost limit) are not one fleet's presses together. */
export const APART_S = 5;

/** How far apart two shards' runs may seem, their hosts' clocks not set alike, and still be one run. */
const RUN_SLACK_MS = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** Reads, checks and merges shard reports into one fleet report. */
export function mergeShardFiles(paths: readonly string[], opts: MergeOptions = {}): MergedReport {
  const files = paths.map((p) => readShardFile(p));
  return mergeShards(paths, files, opts);
}

/**
 * With `opts.partial`, the shards missing are left out: their nodes, their presses and the deliveries
 * to them. A pair between two nodes that reported whose chain runs through a missing node (C follows
 * B follows A, B's shard lost) is judged, with the whole fleet's pairing the shards wrote: lost if it
 * never arrived.
 */
export function mergeShards(
  paths: readonly string[],
  files: readonly ShardFile[],
  opts: MergeOptions = {},
): MergedReport {
  const missing = checkShardSet(paths, files, opts);
  const first = files[0] as ShardFile;
  const count = first.shard.count;
  const offsets = shardOffsets(files);
  const offsetOf = new Map(offsets.map((o) => [o.shard, o.offsetMs]));
  const shardOf = new Map<string, number>();
  const pairing = new Map<NodeId, NodeId[]>();
  files.forEach((f, i) => {
    for (const id of f.nodes) {
      const other = shardOf.get(id);
      if (other !== undefined)
        throw new ShardFileError(
          `${paths[i]}: node ${id} is also in shard ${other}: the shards' nodes must not overlap`,
        );
      shardOf.set(id, f.shard.index);
      pairing.set(id as NodeId, [...(f.pairing[id] ?? [])] as NodeId[]);
    }
  });
  const present = [...pairing.keys()];
  // The missing shards' nodes' pairing, for the chains through them, from the fleet's as the shards wrote it.
  const whole =
    missing.length > 0 ? files.find((f) => f.fleetPairing !== undefined)?.fleetPairing : undefined;
  for (const [id, sources] of Object.entries(whole ?? {}))
    if (!pairing.has(id as NodeId)) pairing.set(id as NodeId, [...sources] as NodeId[]);
  const reach = followersReach(pairing);
  const stops = shardStops(files, offsetOf);
  const stoppedAt = new Map([...stops].map(([j, s]) => [j, s.atMs]));
  const { checkers, unjudged } = replayShards(paths, files, { count, shardOf, reach, offsetOf, stoppedAt });
  const analysed = { ids: present, reach, offsetOf, checkers: [...checkers.values()] };
  const outages = mergedOutages(files, analysed);
  const stalls = mergedStalls(files, analysed);
  const sync = new Distribution(1000, 600_000);
  const crossSync = new Distribution(1000, 600_000);
  let deliveries = 0;
  let superseded = 0;
  let lost = 0;
  let late = 0;
  let lostForGood = 0;
  let crossPairs = 0;
  for (const [key, c] of checkers) {
    const n = c.counts();
    deliveries += n.deliveries;
    superseded += n.superseded;
    lost += n.lost;
    late += n.late;
    lostForGood += n.lostForGood;
    sync.add(c.latency);
    if (key.endsWith("/true")) {
      crossSync.add(c.latency);
      crossPairs += n.deliveries + n.lost;
    }
  }
  const presses = files.reduce((n, f) => n + f.counts.presses, 0);
  // Optional in format /1: a report from before the count, or one that holds no number, adds none.
  const ignored = (k: unknown) => (typeof k === "number" && Number.isSafeInteger(k) && k > 0 ? k : 0);
  const pressesIgnored = files.reduce((n, f) => n + ignored(f.counts.pressesIgnored), 0);
  // Registration, echo and cpu: joined from every shard.
  const reg = new Distribution(1000, 3_600_000);
  const echo = new Distribution(1000, 600_000);
  const cpu = cpuDistribution();
  const allMs: number[] = [];
  const finals = new Map<NodeId, FinalState>();
  const originated = new Map<NodeId, Stamp>();
  const twinsView = { known: 0, online: 0, desiredAsPaired: 0, pairingConfirmed: 0 };
  files.forEach((f, i) => {
    const path = paths[i] as string;
    try {
      reg.addEncoded(f.histograms.registration);
      echo.addEncoded(f.histograms.echo);
    } catch (e) {
      throw new ShardFileError(`${path}: histograms: not an encoded histogram: ${(e as Error).message}`);
    }
    allMs.push(...Object.values(f.registrationMs));
    for (const [id, on, s, cpuPct] of f.finals) {
      finals.set(id as NodeId, { on, stamp: parseStamp(path, s) });
      cpu.record(cpuPct);
    }
    for (const [id, s] of Object.entries(f.originated)) originated.set(id as NodeId, parseStamp(path, s));
    for (const k of Object.keys(twinsView) as (keyof typeof twinsView)[]) twinsView[k] += f.twinsView[k] ?? 0;
  });
  const link = linkTotals(files);
  // A node following one with no final state (its shard wrote no report, its thread died) cannot be
  // judged; nor a node of a shard stopped during the presses: its final state is from then.
  const diverged = divergedNodes(finals, pairing, originated).filter(
    (id) =>
      (pairing.get(id as NodeId) ?? []).every((s) => finals.has(s)) &&
      stops.get(shardOf.get(id) ?? 0)?.duringPresses !== true,
  );
  const lines: ShardLine[] = files
    .map((f, i) => {
      const j = f.shard.index;
      const o = offsets.find((x) => x.shard === j);
      const sameC = checkers.get(checkerKey(j, false)) as SyncChecker;
      const same = sameC.counts();
      const crossC = checkers.get(checkerKey(j, true)) as SyncChecker;
      const lat = new Distribution(1000, 600_000);
      lat.add(sameC.latency);
      lat.add(crossC.latency);
      const regMs = Object.values(f.registrationMs);
      const stop = stops.get(j);
      const apart = (f.pressStartMs - (o?.offsetMs ?? 0) - first.pressStartMs) / 1000;
      return {
        shard: j,
        file: paths[i] as string,
        hostname: f.hostname,
        nodes: f.nodes.length,
        presses: f.counts.presses,
        deliveries: same.deliveries + crossC.counts().deliveries,
        lost: same.lost + crossC.counts().lost,
        syncP99Ms: round(lat.percentile(99)),
        registrationMaxMs: maxOf(regMs, 0),
        lagP99Ms: f.sim.lagP99Ms,
        offsetMs: o?.offsetMs ?? 0,
        offsetUncertaintyMs: o?.uncertaintyMs ?? null,
        originUncertaintyMs: o?.originUncertaintyMs ?? null,
        roundTripMs: o?.roundTripMs ?? null,
        // Unknown without an offset; and a shard cut short before its presses pressed at no time.
        ...(Math.abs(apart) > APART_S && o?.uncertaintyMs != null && stop?.afterPressS !== 0
          ? { pressedApartS: round(apart, 1) }
          : {}),
        ...(stop === undefined
          ? {}
          : { cutShort: { afterPressS: stop.afterPressS, unjudgedPairs: unjudged.get(j) ?? 0 } }),
      };
    })
    .sort((a, b) => a.shard - b.shard);
  const uncertainties = offsets.map((o) => o.uncertaintyMs);
  const lagP99 = Math.max(...files.map((f) => f.sim.lagP99Ms));
  const base: Omit<Report, "requirements"> = {
    format: RUN_REPORT_FORMAT,
    scenario: {
      // A partial merge's figures, registration's among them, cover the shards merged only.
      nodes: missing.length > 0 ? present.length : first.fleet.nodes,
      ...(missing.length > 0 ? { fleetNodes: first.fleet.nodes } : {}),
      profile: first.fleet.profile,
      topology: first.fleet.topology,
      groupSize: first.fleet.groupSize,
      ratePerNodePerMin: first.fleet.ratePerNodePerMin,
      lossPct: first.fleet.lossPct,
      seed: first.fleet.seed,
      durationS: first.fleet.durationS,
      broker: [...new Set(files.map((f) => displayUrl(f.broker)))].join(","),
      brokerKind: "external",
      brokerDurable: false,
      // Shards run no twins service: registration is read off the broker, as on virtual time.
      twins: "none",
      clock: "real",
    },
    loss: { startPct: first.fleet.lossPct, changes: [], meanDuringPressesPct: first.fleet.lossPct },
    cutShort: files.some((f) => f.cutShort),
    presses,
    pressesIgnored,
    deliveries,
    superseded,
    sync: syncFields(sync.summary()),
    lost,
    lostOutsideFaults: lost,
    late,
    lostForGood,
    regressions: files.reduce((n, f) => n + f.counts.regressions, 0),
    regressionList: [],
    faults: [],
    ...(outages.length > 0 ? { brokerOutages: outages } : {}),
    ...(stalls.length > 0 ? { stalls } : {}),
    ...shardsThreadDied(files),
    ...mergeShardClaims(files, offsetOf),
    ...mergeShardMoved(files, offsetOf),
    ...mergeClashes(files, "sessionClashes"),
    ...mergeClashes(files, "sessionsCutAtConnack"),
    ...mergeHeld(
      files.map((f) => ({ index: f.shard.index, endMs: f.endMs, nodes: f.nodes.length, held: f.held })),
    ),
    twinsView,
    diverged: diverged.length,
    divergedNodes: diverged.slice(0, 50),
    registration: {
      p50Ms: round(reg.percentile(50), 1),
      // Exact: every shard lists each node's time.
      maxMs: round(maxOf(allMs, 0), 1),
      registered: allMs.length,
      allMs,
    },
    cpu: cpuFigures(cpu),
    link,
    sim: {
      lagP99Ms: lagP99,
      lagMaxMs: Math.max(...files.map((f) => f.sim.lagMaxMs)),
      workerLagP99Ms: lagP99,
      mainLagP99Ms: lagP99,
      // The shards' broker is not theirs: no broker thread to time.
      brokerLagP99Ms: null,
      // Each shard's process, its worst thread.
      threads: Object.fromEntries(
        files.map((f) => [`shard-${f.shard.index}`, { p99Ms: f.sim.lagP99Ms, maxMs: f.sim.lagMaxMs }]),
      ),
      keptUp: keptUp({ p99Ms: lagP99, maxMs: Math.max(...files.map((f) => f.sim.lagMaxMs)) }),
      // Every shard's process together; unknown when a shard's could not be read.
      rssMB: totalRssMB(files),
      brokerRssMaxMB: null,
      settleS: first.fleet.settleS,
      workers: files.reduce((n, f) => n + f.sim.workers, 0),
      wallS: Math.max(...files.map((f) => f.sim.wallS)),
    },
    versions: versions(),
  };
  return {
    ...base,
    requirements: checkRequirements(base),
    shards: {
      count,
      fingerprint: first.fleet.fingerprint,
      crossShardPairs: crossPairs,
      crossShardSync: syncFields(crossSync.summary()),
      offsetUncertaintyMaxMs: uncertainties.some((u) => u === null)
        ? null
        : Math.max(...(uncertainties as number[])),
      crossShardErrorMaxMs: crossShardErrorMaxMs(offsets),
      echo: syncFields(echo.summary()),
      lines,
      ...(missing.length > 0 ? { missing } : {}),
    },
  };
}

/** The shards cut short: when, on shard 1's clock, how far into the presses, whether during them. */
function shardStops(
  files: readonly ShardFile[],
  offsetOf: ReadonlyMap<number, number>,
): Map<number, { atMs: number; afterPressS: number; duringPresses: boolean }> {
  const out = new Map<number, { atMs: number; afterPressS: number; duringPresses: boolean }>();
  for (const f of files) {
    if (!f.cutShort) continue;
    const afterPressS = round(Math.max(0, f.endMs - f.pressStartMs) / 1000, 1);
    out.set(f.shard.index, {
      atMs: f.endMs - (offsetOf.get(f.shard.index) ?? 0),
      afterPressS,
      duringPresses: afterPressS < f.fleet.durationS,
    });
  }
  return out;
}

/** The shards' clashing (or cut) nodes as one fleet's: counts summed, the first ten ids, the earliest found. */
function mergeClashes(
  files: readonly ShardFile[],
  key: "sessionClashes" | "sessionsCutAtConnack",
): { [k in typeof key]?: SessionClashReport } {
  const all = files.flatMap((f) => f[key] ?? []);
  if (all.length === 0) return {};
  return {
    [key]: {
      nodes: all.reduce((n, c) => n + c.nodes, 0),
      closes: all.reduce((n, c) => n + c.closes, 0),
      ids: all.flatMap((c) => c.ids).slice(0, 10),
      firstAtMs: Math.min(...all.map((c) => c.firstAtMs)),
    },
  };
}

/** Every shard's resident memory together, MB; null when a shard's was unknown (a smaller sum would pass for it). */
function totalRssMB(files: readonly ShardFile[]): number | null {
  let n = 0;
  for (const f of files) {
    if (typeof f.sim.rssMB !== "number") return null;
    n += f.sim.rssMB;
  }
  return round(n, 1);
}
