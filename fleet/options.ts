/**
 * The options of a fleet run (`twinfleet sim`), validated once at the boundary: every flag has a
 * default, a range and an error message that names the flag.
 */
import { availableParallelism } from "node:os";
import { z } from "zod";
import type { LossSpec } from "../node/loss.js";
import { type DeviceProfile, parseProfile } from "../node/profile.js";
import { TOPOLOGY_KINDS, type TopologyKind } from "../sim/topology.js";
import type { BrokerLogin } from "../twins/index.js";
import { type FaultEntry, FaultScheduleError, loadFaultSchedule } from "./faults/schedule.js";

export interface GilbertElliott {
  /** P(good → bad) per segment. */
  readonly pGoodToBad: number;
  /** P(bad → good) per segment. */
  readonly pBadToGood: number;
  /** Loss probability in the bad state (the good state uses --loss). */
  readonly lossBad: number;
}

export interface FleetOptions {
  readonly nodes: number;
  readonly profile: string;
  readonly topology: TopologyKind | { readonly file: string };
  readonly groupSize: number;
  readonly follows: number;
  readonly ratePerNodePerMin: number;
  readonly lossPct: number;
  readonly gilbertElliott?: GilbertElliott;
  readonly seed: string;
  readonly durationS: number;
  readonly settleS: number;
  readonly headless: boolean;
  readonly report?: string;
  readonly assert: boolean;
  readonly broker?: string;
  readonly workers: number;
  readonly prefix: string;
  readonly progressEveryS: number;
  /** Values replacing the profile's, by section and field (e.g. `{ w5100: { rtrMs: 100 } }`). */
  readonly profileOverrides?: ProfileOverrides;
  /** Presses stop this many seconds before the press phase ends, so every press is judged under the run's loss. */
  readonly pressesEndEarlyS?: number;
  /** Faults to inject, times from the start of the presses (fleet/faults/schedule.ts). */
  readonly faults?: readonly FaultEntry[];
  /** `--faults` as given, for the report. */
  readonly faultsSpec?: string;
  /** Start the broker as a `twinfleet broker` child process rather than in this one. */
  readonly brokerProcess?: boolean;
  /** The store of the broker the run starts (LevelDB); in memory otherwise. */
  readonly brokerData?: string;
  /** The store of the run's twins service (a JSON file in this directory); in memory otherwise. */
  readonly twinsData?: string;
  /** Clear the fleet's retained state on an existing broker before starting. */
  readonly fresh?: boolean;
  /**
   * How the run's twins service and its own tools (pairing, --fresh) log in to `broker`: the control
   * role of docs/broker.md. Set by the caller, not from flags here.
   */
  readonly login?: BrokerLogin;
  /** The password every simulated node logs in with, its node id being the user name (node role). */
  readonly nodePassword?: string;
}

/** Profile values to replace, by section and field: plain numbers, as the model sees them. */
export type ProfileOverrides = Readonly<Record<string, Readonly<Record<string, number>>>>;

export const profileOverridesSchema = z.record(z.string(), z.record(z.string(), z.number().finite()));

/**
 * The profile with `overrides` applied to its cited figures and validated again as a whole profile,
 * so a bad value gets the profile's own message; an unknown section or field is named.
 */
export function applyProfileOverrides(profile: DeviceProfile, overrides: ProfileOverrides): DeviceProfile {
  const parsed = profileOverridesSchema.safeParse(overrides);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new OptionError(`profileOverrides.${i?.path.join(".") ?? ""}: ${i?.message ?? "invalid"}`);
  }
  const cited = structuredClone(profile.cited) as unknown as Record<string, unknown>;
  for (const [section, fields] of Object.entries(parsed.data)) {
    const sec = cited[section];
    if (sec === null || typeof sec !== "object" || Array.isArray(sec)) {
      throw new OptionError(`profileOverrides.${section}: not a section of a device profile`);
    }
    for (const [field, value] of Object.entries(fields)) {
      const fig = (sec as Record<string, unknown>)[field];
      if (fig === null || typeof fig !== "object" || !("value" in fig)) {
        throw new OptionError(`profileOverrides.${section}.${field}: not a number in the device profile`);
      }
      (sec as Record<string, unknown>)[field] = {
        ...fig,
        value,
        source: "estimate",
        ref: "profileOverrides: a what-if setting",
      };
    }
  }
  try {
    return parseProfile(cited, `${profile.name} with profileOverrides`);
  } catch (e) {
    throw new OptionError((e as Error).message);
  }
}

/** Flag values as commander hands them over: strings, booleans, or absent. */
export type RawFleetOptions = Partial<Record<keyof typeof FLAG_NAMES, string | boolean | undefined>>;

/** Each option's flag, for error messages. */
export const FLAG_NAMES = {
  nodes: "--nodes",
  profile: "--profile",
  topology: "--topology",
  groupSize: "--group-size",
  follows: "--follows",
  rate: "--rate",
  loss: "--loss",
  ge: "--ge",
  seed: "--seed",
  duration: "--duration",
  settle: "--settle",
  headless: "--headless",
  report: "--report",
  assert: "--assert",
  broker: "--broker",
  workers: "--workers",
  prefix: "--prefix",
  progressEvery: "--progress-every",
  faults: "--faults",
  brokerProcess: "--broker-process",
  brokerData: "--broker-data",
  twinsData: "--twins-data",
  fresh: "--fresh",
} as const;

export const DEFAULTS = {
  nodes: 300,
  profile: "uno-w5100",
  topology: "ring" as TopologyKind,
  groupSize: 8,
  follows: 2,
  ratePerNodePerMin: 1,
  lossPct: 0,
  seed: "twinfleet",
  durationS: 60,
  settleS: 10,
  prefix: "tf",
  progressEveryS: 5,
} as const;

export class OptionError extends Error {
  override readonly name = "OptionError";
}

const MAX_NODES = 20_000;

function num(
  flag: string,
  raw: unknown,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
): number {
  if (raw === undefined) return fallback;
  const s = String(raw).trim();
  const v = Number(s);
  const kind = integer ? "a whole number" : "a number";
  if (s === "" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new OptionError(`${flag} must be ${kind} from ${min} to ${max} (got ${JSON.stringify(s)})`);
  }
  return v;
}

function str(raw: unknown): string | undefined {
  return typeof raw === "string" ? raw : undefined;
}

/** Simulated nodes speak plain TCP, as a W5100 does: mqtt:// (or tcp://), a host, an optional port. */
function isNodeBrokerUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (
      (u.protocol === "mqtt:" || u.protocol === "tcp:") &&
      u.hostname !== "" &&
      (u.pathname === "" || u.pathname === "/")
    );
  } catch {
    return false;
  }
}

export function parseGilbertElliott(raw: string): GilbertElliott {
  const parts = raw.split(",").map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0 || p > 1)) {
    throw new OptionError(
      `--ge must be three probabilities "pGoodToBad,pBadToGood,lossBad", each from 0 to 1 (got ${JSON.stringify(raw)})`,
    );
  }
  const [pGoodToBad, pBadToGood, lossBad] = parts as [number, number, number];
  if (pBadToGood === 0) throw new OptionError("--ge pBadToGood must be above 0, or the link never recovers");
  return { pGoodToBad, pBadToGood, lossBad };
}

/** Validates raw flags into complete options; throws OptionError naming the flag. */
export function resolveFleetOptions(raw: RawFleetOptions): FleetOptions {
  const nodes = num(FLAG_NAMES.nodes, raw.nodes, DEFAULTS.nodes, 1, MAX_NODES, true);
  const topoRaw = str(raw.topology) ?? DEFAULTS.topology;
  const topology = (TOPOLOGY_KINDS as readonly string[]).includes(topoRaw)
    ? (topoRaw as TopologyKind)
    : topoRaw.endsWith(".json")
      ? { file: topoRaw }
      : undefined;
  if (topology === undefined) {
    throw new OptionError(
      `--topology must be one of ${TOPOLOGY_KINDS.join(", ")} or a pairing file ending in .json (got ${JSON.stringify(topoRaw)})`,
    );
  }
  const groupSize = num(FLAG_NAMES.groupSize, raw.groupSize, DEFAULTS.groupSize, 2, MAX_NODES, true);
  const follows = num(FLAG_NAMES.follows, raw.follows, DEFAULTS.follows, 1, 8, true);
  const profile = str(raw.profile) ?? DEFAULTS.profile;
  if (!/^[a-z0-9-]{1,16}$/.test(profile) && !profile.endsWith(".json")) {
    throw new OptionError(
      `--profile must be a profile name like uno-w5100 or a .json file (got ${JSON.stringify(profile)})`,
    );
  }
  const broker = str(raw.broker);
  if (broker !== undefined && !isNodeBrokerUrl(broker)) {
    throw new OptionError(
      `--broker must be mqtt://host:port: simulated nodes speak plain TCP like a W5100 (got ${JSON.stringify(broker)})`,
    );
  }
  const brokerData = str(raw.brokerData);
  if (brokerData !== undefined && brokerData.trim() === "")
    throw new OptionError("--broker-data needs a directory");
  const twinsData = str(raw.twinsData);
  if (twinsData !== undefined && twinsData.trim() === "")
    throw new OptionError("--twins-data needs a directory");
  if (broker !== undefined && (raw.brokerProcess === true || brokerData !== undefined)) {
    throw new OptionError(
      "--broker names someone else's broker; --broker-process and --broker-data are for a broker the run starts",
    );
  }
  if (broker === undefined && raw.fresh === true) {
    throw new OptionError(
      "--fresh clears the fleet's retained state on a --broker; the run's own broker starts empty",
    );
  }
  const prefix = str(raw.prefix) ?? DEFAULTS.prefix;
  if (!/^[A-Za-z0-9_-]{1,12}$/.test(prefix)) {
    throw new OptionError(`--prefix must be 1-12 of A-Z a-z 0-9 _ - (got ${JSON.stringify(prefix)})`);
  }
  const seed = str(raw.seed) ?? DEFAULTS.seed;
  if (seed.length === 0 || seed.length > 64) throw new OptionError("--seed must be 1-64 characters");
  const report = str(raw.report);
  if (report !== undefined && report.trim() === "") throw new OptionError("--report needs a file name");
  const ge = str(raw.ge);
  const faultsSpec = str(raw.faults);
  let faults: FaultEntry[] | undefined;
  if (faultsSpec !== undefined) {
    try {
      faults = loadFaultSchedule(faultsSpec);
    } catch (e) {
      if (e instanceof FaultScheduleError) throw new OptionError(e.message);
      throw e;
    }
  }
  return {
    nodes,
    profile,
    topology,
    groupSize,
    follows,
    ratePerNodePerMin: num(FLAG_NAMES.rate, raw.rate, DEFAULTS.ratePerNodePerMin, 0, 600, false),
    lossPct: num(FLAG_NAMES.loss, raw.loss, DEFAULTS.lossPct, 0, 90, false),
    ...(ge !== undefined ? { gilbertElliott: parseGilbertElliott(ge) } : {}),
    seed,
    durationS: num(FLAG_NAMES.duration, raw.duration, DEFAULTS.durationS, 1, 86_400, false),
    settleS: num(FLAG_NAMES.settle, raw.settle, DEFAULTS.settleS, 0, 3_600, false),
    headless: raw.headless === true,
    ...(report !== undefined ? { report } : {}),
    assert: raw.assert === true,
    ...(broker !== undefined ? { broker } : {}),
    workers: num(
      FLAG_NAMES.workers,
      raw.workers,
      Math.max(1, Math.min(4, availableParallelism())),
      0,
      64,
      true,
    ),
    prefix,
    progressEveryS: num(
      FLAG_NAMES.progressEvery,
      raw.progressEvery,
      DEFAULTS.progressEveryS,
      0.2,
      3_600,
      false,
    ),
    ...(faults !== undefined && faultsSpec !== undefined ? { faults, faultsSpec } : {}),
    ...(raw.brokerProcess === true ? { brokerProcess: true } : {}),
    ...(brokerData !== undefined ? { brokerData } : {}),
    ...(twinsData !== undefined ? { twinsData } : {}),
    ...(raw.fresh === true ? { fresh: true } : {}),
  };
}

/** The link loss a run's nodes get at `pct` percent: Bernoulli, or Gilbert–Elliott with --ge. */
export function lossSpecOf(opts: FleetOptions, pct: number): LossSpec {
  const ge = opts.gilbertElliott;
  if (ge) return { kind: "gilbert-elliott", ...ge, lossGood: pct / 100 };
  return pct > 0 ? { kind: "bernoulli", p: pct / 100 } : { kind: "none" };
}
