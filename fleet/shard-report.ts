/**
 * The shard report (`twinfleet sim --shard K/N --shard-report FILE`): what one shard of a fleet saw,
 * in a versioned JSON format that `twinfleet report merge` joins with the other shards' — the fleet
 * it belongs to (fingerprint, scenario), its nodes and their pairing, every press and every applied
 * state with its wall time, registration times, mergeable histograms, counts, the nodes' final
 * states and the clock probe's measurements. This module owns the format: its type, writing it, and
 * reading one back with an error that names the file and what is wrong.
 */
import { writeFileWhole } from "../node/whole-file.js";
import { OptionError } from "../protocol/index.js";
import { shownPath } from "../protocol/shown.js";
import { FILE_LIMITS, jsonProblem, readUserText } from "../protocol/user-file.js";
import type { LinkTotals } from "../sim/messages.js";
import type { BrokerMovedReport } from "./broker-address.js";
import type { ClaimReport } from "./claim-report.js";
import type { HeldReport } from "./joined-held.js";
import type { TwinsView } from "./registrations.js";
import type { BrokerOutageReport } from "./report.js";
import { checkNotNewer, parseReportFormat } from "./report-format.js";
import { unfinishedLine } from "./report-unfinished.js";
import type { SessionClashReport } from "./session-clashes.js";
import { claimProblem } from "./shard-claims.js";
import { heldProblem } from "./shard-held.js";
import { movedProblem } from "./shard-moved.js";
import type { ProbeRecord } from "./shard-probe.js";
import type { StallReport } from "./stall-report.js";
import type { ThreadDeath } from "./thread-death.js";

/** The shard report's format as written by this build, and the highest this build reads (fleet/report-format.ts). */
export const SHARD_REPORT_VERSION = 1;
export const SHARD_REPORT_FORMAT = `twinfleet-shard-report/${SHARD_REPORT_VERSION}` as const;

/** A stamp as `counter@origin`. */
export type StampText = string;

/**
 * An outage of the broker as this shard's watch client saw it: the span on the shard's wall clock
 * (`endMs`: when the client was back, or the end of the shard's checks), and what it did to the
 * shard's own nodes and in-shard pairs (the merge measures the whole fleet's).
 */
export interface ShardOutage extends BrokerOutageReport {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * A time the shard's own process did not run (stopped, its VM paused: node/stall-watch.ts): the span
 * on the shard's wall clock, and what it did to the shard's own nodes and in-shard pairs (the merge
 * measures the whole fleet's). A loss of the broker it explains (`brokerLost`) is not in `brokerOutages`.
 */
export interface ShardStall extends StallReport {
  readonly startMs: number;
  readonly endMs: number;
}

/** Per node of the shard, wall times (ms): each lost session, each registration, each time it showed offline. */
export interface ShardTimeline {
  readonly disconnects: Readonly<Record<string, readonly number[]>>;
  readonly registrations: Readonly<Record<string, readonly number[]>>;
  readonly offline: Readonly<Record<string, readonly number[]>>;
}

export interface ShardFile {
  readonly format: typeof SHARD_REPORT_FORMAT;
  readonly shard: { readonly index: number; readonly count: number };
  readonly fleet: {
    /** fleet/shard-plan.ts fleetFingerprint: equal in every shard of one fleet. */
    readonly fingerprint: string;
    readonly nodes: number;
    readonly profile: string;
    readonly topology: string;
    readonly groupSize: number;
    readonly ratePerNodePerMin: number;
    readonly lossPct: number;
    readonly seed: string;
    readonly durationS: number;
    readonly settleS: number;
    readonly prefix: string;
  };
  readonly broker: string;
  readonly hostname: string;
  /** The build that ran it (`twinfleet --version`); absent in reports of builds before 7 December 2026. */
  readonly build?: string;
  /** Wall times (ms since the epoch, on this shard's clock). */
  readonly startedAtMs: number;
  readonly pressStartMs: number;
  readonly endMs: number;
  readonly cutShort: boolean;
  /** One of its node threads died (fleet/thread-death.ts): the shard ended there, `cutShort` too. */
  readonly threadDied?: ThreadDeath;
  /** This shard's nodes, and the sources each of them follows. */
  readonly nodes: readonly string[];
  readonly pairing: Readonly<Record<string, readonly string[]>>;
  /** [node, stamp (null: held and never published), wall ms] for every press of this shard's nodes. */
  readonly presses: readonly (readonly [string, StampText | null, number])[];
  /** [node, stamp, wall ms] for every state a node of this shard applied. */
  readonly applies: readonly (readonly [string, StampText, number])[];
  /** Each node's newest own state (press or set), for the divergence check. */
  readonly originated: Readonly<Record<string, StampText>>;
  /** [node, on, stamp, cpu %, synced] at the end. */
  readonly finals: readonly (readonly [string, boolean, StampText, number, boolean])[];
  /** ms from power-on to registered, per node that registered. */
  readonly registrationMs: Readonly<Record<string, number>>;
  /** hdr-histogram compressed base64, µs resolution (scale 1000 per ms). */
  readonly histograms: { readonly registration: string; readonly echo: string; readonly localSync: string };
  readonly counts: {
    readonly presses: number;
    readonly applies: number;
    /** Pairs whose source and follower are both in this shard, as this shard's own checker saw them. */
    readonly localDeliveries: number;
    readonly localLost: number;
    readonly regressions: number;
    readonly disconnects: number;
    /** Presses the button interrupts ignored (debounced); absent from reports written before the count. */
    readonly pressesIgnored?: number;
  };
  readonly link: LinkTotals;
  readonly sim: {
    readonly lagP99Ms: number;
    readonly lagMaxMs: number;
    /**
     * Its process's resident memory at the end of its presses; absent when it could not be read (at
     * the open-files limit). Absent, not null: an older merge adds null as 0 and gives a smaller
     * total, but adds an absent one as NaN, which its report writes as null (unknown).
     */
    readonly rssMB?: number;
    readonly workers: number;
    readonly wallS: number;
  };
  readonly twinsView: TwinsView;
  readonly probes: ProbeRecord;
  /**
   * Fields added to format /1 after its first reports are optional: a report from before them still
   * merges, read as having none. Each time the shard's client lost the broker.
   */
  readonly brokerOutages?: readonly ShardOutage[];
  /** Each time the shard's own process did not run for a while (absent: none, or a report from before the watch). */
  readonly stalls?: readonly ShardStall[];
  /** Its nodes' sessions lost, registrations and offline times, for the merge's outage analysis. */
  readonly timeline?: ShardTimeline;
  /** Its nodes whose sessions another client with the same id kept taking over (fleet/session-clashes.ts). */
  readonly sessionClashes?: SessionClashReport;
  /** Its nodes whose sessions the broker closed right after their CONNACK, again and again (the same). */
  readonly sessionsCutAtConnack?: SessionClashReport;
  /** Which of its nodes the twins service on the broker held a twin of at the end (fleet/shard-held.ts). */
  readonly held?: HeldReport;
  /** Each time the shard's claim on its ids was not held, or that it had none (fleet/shard-claims.ts). */
  readonly claim?: ClaimReport;
  /** Its nodes' broker name named other addresses mid-run than they connect to (fleet/shard-moved.ts). */
  readonly brokerMoved?: BrokerMovedReport;
  /** The whole fleet's pairing, as every shard derives it: a merge with shards missing judges the chains through their nodes. */
  readonly fleetPairing?: Readonly<Record<string, readonly string[]>>;
}

export function writeShardFile(path: string, f: ShardFile): void {
  writeFileWhole(path, `${JSON.stringify(f)}\n`);
}

/** A shard report that cannot be used (a bad argument of the merge: exit 2); the message names the file. */
export class ShardFileError extends OptionError {
  override readonly name = "ShardFileError";
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields the merge reads, and their JSON types. */
const REQUIRED: readonly [string, "object" | "array" | "number" | "string" | "boolean"][] = [
  ["shard", "object"],
  ["fleet", "object"],
  ["broker", "string"],
  ["hostname", "string"],
  ["startedAtMs", "number"],
  ["pressStartMs", "number"],
  ["endMs", "number"],
  ["cutShort", "boolean"],
  ["nodes", "array"],
  ["pairing", "object"],
  ["presses", "array"],
  ["applies", "array"],
  ["originated", "object"],
  ["finals", "array"],
  ["registrationMs", "object"],
  ["histograms", "object"],
  ["counts", "object"],
  ["link", "object"],
  ["sim", "object"],
  ["twinsView", "object"],
  ["probes", "object"],
];

function typeOf(v: unknown): string {
  return Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
}

/** Reads and checks one shard report; the error names the file and the field. */
export function readShardFile(path: string): ShardFile {
  const text = readUserText(path, { maxBytes: FILE_LIMITS.fleet, error: (m) => new ShardFileError(m) });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ShardFileError(`${shownPath(path)}: not JSON: ${jsonProblem(text, e)}`);
  }
  return checkShardFile(path, v);
}

export function checkShardFile(path: string, v: unknown): ShardFile {
  if (!isObj(v))
    throw new ShardFileError(`${shownPath(path)}: not a shard report (a JSON object), got ${typeOf(v)}`);
  // The mark a shard leaves while it runs (cli/commands/sim-shard.ts): killed with -9, it wrote no report.
  const unfinished = unfinishedLine(shownPath(path), v);
  if (unfinished !== undefined)
    throw new ShardFileError(
      `${unfinished}; that shard has no report of this run to merge: run the fleet again, or leave the file out and merge the others with --partial`,
    );
  const format = parseReportFormat(v.format);
  if (format?.kind === "shard")
    checkNotNewer(
      shownPath(path),
      "shard",
      format.n,
      SHARD_REPORT_VERSION,
      v.build,
      "merge the shards' reports with that build or a later one",
    );
  if (v.format !== SHARD_REPORT_FORMAT) {
    throw new ShardFileError(
      `${shownPath(path)}: format must be ${JSON.stringify(SHARD_REPORT_FORMAT)} (written by twinfleet sim --shard K/N --shard-report FILE), got ${JSON.stringify(v.format)}`,
    );
  }
  for (const [field, type] of REQUIRED) {
    if (typeOf(v[field]) !== type)
      throw new ShardFileError(
        `${shownPath(path)}: ${field} must be ${type === "array" || type === "object" ? "an" : "a"} ${type}, got ${typeOf(v[field])}`,
      );
  }
  const shard = v.shard as Record<string, unknown>;
  const count = shard.count;
  const index = shard.index;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1)
    throw new ShardFileError(
      `${shownPath(path)}: shard.count must be a whole number ≥ 1, got ${JSON.stringify(count)}`,
    );
  if (typeof index !== "number" || !Number.isInteger(index) || index < 1 || index > count)
    throw new ShardFileError(
      `${shownPath(path)}: shard.index must be from 1 to ${count}, got ${JSON.stringify(index)}`,
    );
  const fleet = v.fleet as Record<string, unknown>;
  for (const f of ["fingerprint", "seed", "profile", "topology", "prefix"])
    if (typeof fleet[f] !== "string")
      throw new ShardFileError(`${shownPath(path)}: fleet.${f} must be a string`);
  for (const f of ["nodes", "groupSize", "ratePerNodePerMin", "lossPct", "durationS", "settleS"])
    if (typeof fleet[f] !== "number")
      throw new ShardFileError(`${shownPath(path)}: fleet.${f} must be a number`);
  const rows = (name: string, width: number) => {
    (v[name] as unknown[]).forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== width || typeof row[0] !== "string")
        throw new ShardFileError(
          `${shownPath(path)}: ${name}[${i}] must be a row of ${width} starting with a node id`,
        );
      if (typeof row[width === 5 ? 3 : 2] !== "number")
        throw new ShardFileError(
          `${shownPath(path)}: ${name}[${i}] has no number where its time or cpu belongs`,
        );
    });
  };
  rows("presses", 3);
  rows("applies", 3);
  rows("finals", 5);
  checkOptional(path, v);
  return v as unknown as ShardFile;
}

/** The fields added after the format's first reports: absent is fine, present must be whole. */
function checkOptional(path: string, v: Record<string, unknown>): void {
  if (v.build !== undefined && typeof v.build !== "string")
    throw new ShardFileError(`${shownPath(path)}: build must be a string, got ${typeOf(v.build)}`);
  const bound = (v.probes as Record<string, unknown>).originUncertaintyMs;
  if (bound !== undefined && (typeof bound !== "number" || !(bound >= 0)))
    throw new ShardFileError(
      `${shownPath(path)}: probes.originUncertaintyMs must be a number ≥ 0, got ${JSON.stringify(bound)}`,
    );
  const heldWrong = heldProblem(v.held);
  if (heldWrong !== undefined) throw new ShardFileError(`${shownPath(path)}: ${heldWrong}`);
  const claimWrong = claimProblem(v.claim);
  if (claimWrong !== undefined) throw new ShardFileError(`${shownPath(path)}: ${claimWrong}`);
  const movedWrong = movedProblem(v.brokerMoved);
  if (movedWrong !== undefined) throw new ShardFileError(`${shownPath(path)}: ${movedWrong}`);
  if (v.brokerOutages !== undefined) {
    if (!Array.isArray(v.brokerOutages))
      throw new ShardFileError(
        `${shownPath(path)}: brokerOutages must be an array, got ${typeOf(v.brokerOutages)}`,
      );
    v.brokerOutages.forEach((o: unknown, i) => {
      if (
        !isObj(o) ||
        typeof o.startMs !== "number" ||
        typeof o.endMs !== "number" ||
        typeof o.back !== "boolean" ||
        (o.refused !== undefined && typeof o.refused !== "string")
      )
        throw new ShardFileError(
          `${shownPath(path)}: brokerOutages[${i}] must have startMs, endMs (numbers) and back, and refused a string if any`,
        );
    });
  }
  if (v.stalls !== undefined) {
    if (!Array.isArray(v.stalls))
      throw new ShardFileError(`${shownPath(path)}: stalls must be an array, got ${typeOf(v.stalls)}`);
    v.stalls.forEach((o: unknown, i) => {
      if (
        !isObj(o) ||
        typeof o.startMs !== "number" ||
        typeof o.endMs !== "number" ||
        typeof o.brokerLost !== "boolean" ||
        typeof o.pressesIgnored !== "number"
      )
        throw new ShardFileError(
          `${shownPath(path)}: stalls[${i}] must have startMs, endMs, pressesIgnored (numbers) and brokerLost`,
        );
    });
  }
  for (const key of ["sessionClashes", "sessionsCutAtConnack"] as const) {
    const c = v[key];
    if (
      c !== undefined &&
      (!isObj(c) ||
        typeof c.nodes !== "number" ||
        typeof c.closes !== "number" ||
        typeof c.firstAtMs !== "number" ||
        !Array.isArray(c.ids) ||
        !c.ids.every((x) => typeof x === "string"))
    )
      throw new ShardFileError(
        `${shownPath(path)}: ${key} must have nodes, closes, firstAtMs (numbers) and ids (strings)`,
      );
  }
  if (v.fleetPairing !== undefined) {
    const p = v.fleetPairing;
    if (
      !isObj(p) ||
      !Object.values(p).every((l) => Array.isArray(l) && l.every((x) => typeof x === "string"))
    )
      throw new ShardFileError(`${shownPath(path)}: fleetPairing must map node ids to lists of node ids`);
  }
  if (v.timeline !== undefined) {
    const t = v.timeline;
    for (const k of ["disconnects", "registrations", "offline"]) {
      const m = isObj(t) ? t[k] : undefined;
      if (
        !isObj(m) ||
        !Object.values(m).every((l) => Array.isArray(l) && l.every((x) => typeof x === "number"))
      )
        throw new ShardFileError(`${shownPath(path)}: timeline.${k} must map node ids to lists of times`);
    }
  }
}
