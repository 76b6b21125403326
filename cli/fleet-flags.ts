/**
 * Fleet flags → `FleetOptions`: commander hands over strings, and this module turns them into the
 * typed options the library takes, with errors naming the flag (`--nodes: must be a whole number
 * from 1 to 20000 (200000 on virtual time), got "x"`). It checks only what a string can get wrong (is it a number, a topology,
 * three probabilities); ranges and combinations are the library's one validation
 * (resolveFleetOptions), whose FleetOptionsError `withFlagNames` words with the flags instead of the
 * option names. Shared by `twinfleet sim`, `twinfleet sweep` and the bench scripts.
 */
import { loadFaultSchedule } from "../fleet/faults/schedule.js";
import {
  anyClockExpectation,
  type FieldNamer,
  type FleetOptions,
  FleetOptionsError,
  type NumberField,
  optionName,
  type Topology,
} from "../fleet/options.js";
import { ProfileError } from "../node/profile.js";
import { decimalHint, isDecimal } from "../protocol/index.js";
import { shown } from "../protocol/shown.js";
import { PairingFileError } from "../sim/pairing-file.js";
import { TOPOLOGY_KINDS, type TopologyKind } from "../sim/topology.js";
import { UsageError } from "./errors.js";

/** Fleet flag values as commander hands them over (keys are the camel-cased flag names). */
export interface FleetFlagValues {
  readonly nodes?: string;
  readonly profile?: string;
  readonly topology?: string;
  readonly groupSize?: string;
  readonly follows?: string;
  readonly rate?: string;
  readonly loss?: string;
  readonly lossMode?: string;
  readonly ge?: string;
  readonly seed?: string;
  readonly duration?: string;
  readonly settle?: string;
  readonly broker?: string;
  readonly workers?: string;
  readonly prefix?: string;
  readonly idBase?: string;
  readonly progressEvery?: string;
  readonly faults?: string;
  readonly brokerProcess?: boolean;
  readonly brokerData?: string;
  readonly twinsData?: string;
  readonly fresh?: boolean;
  readonly clock?: string;
  /** commander's `--no-twins`: false when given. */
  readonly twins?: boolean;
}

/** The flag of each option field, for messages. */
export const FLEET_FLAGS: Readonly<Partial<Record<keyof FleetOptions, string>>> = {
  nodes: "--nodes",
  profile: "--profile",
  topology: "--topology",
  groupSize: "--group-size",
  follows: "--follows",
  ratePerNodePerMin: "--rate",
  lossPct: "--loss",
  lossMode: "--loss-mode",
  gilbertElliott: "--ge",
  seed: "--seed",
  durationS: "--duration",
  settleS: "--settle",
  broker: "--broker",
  workers: "--workers",
  prefix: "--prefix",
  idBase: "--id-base",
  progressEveryS: "--progress-every",
  faults: "--faults",
  faultsSpec: "--faults",
  brokerProcess: "--broker-process",
  brokerData: "--broker-data",
  twinsData: "--twins-data",
  fresh: "--fresh",
  login: "--username/--password",
  nodePassword: "--node-password",
  clock: "--clock",
  twins: "--no-twins",
};

/** Names a field by its flag (`--ge (pBadToGood)`), or as an option when it has none. */
export const flagName: FieldNamer = (field, subpath) => {
  const flag = FLEET_FLAGS[field as keyof FleetOptions];
  if (flag === undefined) return optionName(field, subpath);
  return subpath ? `${flag} (${subpath})` : flag;
};

/**
 * A fleet option's error worded with the flags: a FleetOptionsError names each field by its flag; a
 * device profile or pairing file that cannot be used is put after its flag (`--profile: x.json: not
 * valid JSON …`). Anything else as it is.
 */
function flagError(e: unknown): unknown {
  if (e instanceof FleetOptionsError) return new UsageError(e.describe(flagName));
  const flag =
    e instanceof ProfileError ? "--profile" : e instanceof PairingFileError ? "--topology" : undefined;
  if (flag !== undefined && !(e as Error).message.startsWith(flag))
    return new UsageError(`${flag}: ${(e as Error).message}`);
  return e;
}

/** Runs `f`; an option error it throws becomes a UsageError worded with the flags. */
export async function withFlagNames<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw flagError(e);
  }
}

/** The same, for a check that does not wait. */
export function withFlagNamesSync<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw flagError(e);
  }
}

/**
 * A number flag's value: any number written in plain decimal (protocol/decimal.ts: not `0x10`,
 * `1e3` or ` 16`); `what` says what it must be (e.g. `a whole number from 1 to 20000`) when the
 * string is not one. Absent stays absent.
 */
export function numberFlag(flag: string, raw: string | undefined, what: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!isDecimal(raw)) throw new UsageError(`${flag}: must be ${what}${decimalHint(raw)}, got ${shown(raw)}`);
  return Number(raw);
}

/** A whole-number flag with its own range (sweep and bench flags that are not fleet options). */
export function wholeNumberFlag(
  flag: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  const what = `a whole number from ${min} to ${max}`;
  const v = numberFlag(flag, raw, what);
  if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
    throw new UsageError(`${flag}: must be ${what}, got ${shown(raw ?? "")}`);
  }
  return v;
}

function fleetNumber(field: NumberField, raw: string | undefined): number | undefined {
  return numberFlag(FLEET_FLAGS[field] ?? field, raw, anyClockExpectation(field));
}

function topologyFlag(raw: string | undefined): Topology | undefined {
  if (raw === undefined) return undefined;
  if ((TOPOLOGY_KINDS as readonly string[]).includes(raw)) return raw as TopologyKind;
  if (raw.endsWith(".json")) return { file: raw };
  throw new UsageError(
    `--topology: must be one of ${TOPOLOGY_KINDS.join(", ")} or a pairing file ending in .json, got ${shown(raw)}`,
  );
}

function geFlag(raw: string | undefined): FleetOptions["gilbertElliott"] {
  if (raw === undefined) return undefined;
  // Spaces after the commas are the list's, not the numbers'.
  const parts = raw.split(",").map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => !isDecimal(p))) {
    throw new UsageError(
      `--ge: must be three probabilities "pGoodToBad,pBadToGood,lossBad", each from 0 to 1, got ${shown(raw)}`,
    );
  }
  const [pGoodToBad, pBadToGood, lossBad] = values as [number, number, number];
  return { pGoodToBad, pBadToGood, lossBad };
}

/** The typed options the flags ask for; only given flags appear, so the library's defaults apply. */
export function fleetOptionsFromFlags(raw: FleetFlagValues): FleetOptions {
  const entries: [keyof FleetOptions, unknown][] = [
    ["nodes", fleetNumber("nodes", raw.nodes)],
    ["profile", raw.profile],
    ["topology", topologyFlag(raw.topology)],
    ["groupSize", fleetNumber("groupSize", raw.groupSize)],
    ["follows", fleetNumber("follows", raw.follows)],
    ["ratePerNodePerMin", fleetNumber("ratePerNodePerMin", raw.rate)],
    ["lossPct", fleetNumber("lossPct", raw.loss)],
    // model or kernel: resolveFleetOptions says so, naming --loss-mode.
    ["lossMode", raw.lossMode],
    ["gilbertElliott", geFlag(raw.ge)],
    ["seed", raw.seed],
    ["durationS", fleetNumber("durationS", raw.duration)],
    ["settleS", fleetNumber("settleS", raw.settle)],
    ["broker", raw.broker],
    ["workers", fleetNumber("workers", raw.workers)],
    ["prefix", raw.prefix],
    ["idBase", raw.idBase],
    ["progressEveryS", fleetNumber("progressEveryS", raw.progressEvery)],
    // A preset list or a schedule file; its own errors name --faults and the entry.
    ["faults", raw.faults !== undefined ? loadFaultSchedule(raw.faults) : undefined],
    ["faultsSpec", raw.faults],
    ["brokerProcess", raw.brokerProcess],
    ["brokerData", raw.brokerData],
    ["twinsData", raw.twinsData],
    ["fresh", raw.fresh],
    // real or virtual: resolveFleetOptions says so, naming --clock.
    ["clock", raw.clock],
    ["twins", raw.twins === false ? false : undefined],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as FleetOptions;
}
