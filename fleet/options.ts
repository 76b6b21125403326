/**
 * The options of a fleet run, in the library's shape: `FleetOptions` (typed, every field optional)
 * → `ResolvedFleetOptions` (every default from the one `DEFAULTS` object filled in). One validation,
 * `resolveFleetOptions`, runs once before anything starts (FleetRun.start calls it first): each
 * field's type and range, the broker URL, the fault schedule against the fleet, and the fields that
 * only make sense together. A `FleetOptionsError` keeps the field of each problem, so the library
 * says `options.nodes` and the command line says `--nodes` (cli/fleet-flags.ts) for the same check.
 */
import { z } from "zod";
import type { LossSpec } from "../node/loss.js";
import { shown, withoutUserInfo } from "../protocol/shown.js";
import { fleetIds, TOPOLOGY_KINDS, type TopologyKind } from "../sim/topology.js";
import { type BrokerLogin, bracketedIpv6, urlPartsProblem, urlTextProblem } from "../twins/index.js";
import { DEFAULTS } from "./defaults.js";
import { checkScheduleFits, type FaultEntry, parseSchedule } from "./faults/schedule.js";
import { kernelLossIssues, LOSS_MODES, type LossMode } from "./kernel-loss-rules.js";
import { type FieldNamer, type FleetOptionIssue, FleetOptionsError } from "./option-errors.js";
import { virtualIssues } from "./virtual-options.js";

export {
  type FieldNamer,
  type FleetOptionIssue,
  FleetOptionsError,
  fleetOptionError,
  optionName,
} from "./option-errors.js";

export interface GilbertElliott {
  /** P(good → bad) per segment. */
  readonly pGoodToBad: number;
  /** P(bad → good) per segment; above 0, or the link never recovers. */
  readonly pBadToGood: number;
  /** Loss probability in the bad state (the good state uses `lossPct`). */
  readonly lossBad: number;
}

/**
 * What a run keeps time on: `real`, wall time with real sockets to a real broker; `virtual`, one
 * FakeScheduler for the nodes, an in-memory broker and the checker, run as fast as the CPU allows.
 */
export const CLOCKS = ["real", "virtual"] as const;
export type Clock = (typeof CLOCKS)[number];

/** A generated topology, or a pairing file (docs/pairing.md). */
export type Topology = TopologyKind | { readonly file: string };

export interface FleetOptions {
  /** Simulated nodes. Default 300. */
  readonly nodes?: number;
  /** A device profile by name (profiles/devices/) or a .json file. Default `uno-w5100`. */
  readonly profile?: string;
  /** Who follows whom. Default `ring`. */
  readonly topology?: Topology;
  /** Nodes per ring / chain / star / random group. Default 8. */
  readonly groupSize?: number;
  /** Sources per node for the random topology. Default 2. */
  readonly follows?: number;
  /** Button presses per node per minute. Default 1. */
  readonly ratePerNodePerMin?: number;
  /** Packet loss in percent, each direction. Default 0. */
  readonly lossPct?: number;
  /** Bursty loss: Gilbert–Elliott instead of independent segments. */
  readonly gilbertElliott?: GilbertElliott;
  /**
   * Who loses the nodes' packets: the link model (`model`, default), or the kernel (`kernel`: the
   * broker in a network namespace, nftables dropping; root; fleet/kernel-loss.ts).
   */
  readonly lossMode?: LossMode;
  /** Seed of every random choice. Default `twinfleet`. */
  readonly seed?: string;
  /** Seconds of presses. Default 60. */
  readonly durationS?: number;
  /** Seconds at 0 % loss after the presses, before divergence is checked. Default 10. */
  readonly settleS?: number;
  /** Someone else's broker, `mqtt://host:port` (plain TCP, as a W5100 speaks); the run starts one otherwise. */
  readonly broker?: string;
  /** Worker threads for the nodes; 0 runs them in the broker's thread. Default: the cores, at most 4. */
  readonly workers?: number;
  /** Topic prefix. Default `tf`. */
  readonly prefix?: string;
  /**
   * What the nodes' ids start with: `<idBase>-0000`, `<idBase>-0001`… Default `n`. Another base is
   * another set of boards on the same broker and twins service (boards replaced, a new batch).
   */
  readonly idBase?: string;
  /** Seconds between `progress` events. Default 5. */
  readonly progressEveryS?: number;
  /** Values replacing the profile's, by section and field (e.g. `{ w5100: { rtrMs: 100 } }`). */
  readonly profileOverrides?: ProfileOverrides;
  /** Presses stop this many seconds before the press phase ends, so every press is judged under the run's loss. Default 0. */
  readonly pressesEndEarlyS?: number;
  /** Faults to inject, times from the start of the presses (fleet/faults/schedule.ts). Default none. */
  readonly faults?: readonly FaultEntry[];
  /** How the report names the faults (`--faults` as given); default `kind@atS` of each. */
  readonly faultsSpec?: string;
  /** Start the broker as a `twinfleet broker` child process rather than in this one. Default false. */
  readonly brokerProcess?: boolean;
  /** The store of the broker the run starts (LevelDB); in memory otherwise. */
  readonly brokerData?: string;
  /** The store of the run's twins service (a JSON file in this directory); in memory otherwise. */
  readonly twinsData?: string;
  /** Clear the fleet's retained state on `broker` before starting. Default false. */
  readonly fresh?: boolean;
  /** How the run's twins service and its own tools log in to `broker`: the control role of docs/broker.md. */
  readonly login?: BrokerLogin;
  /** The password every simulated node logs in with, its node id being the user name (node role). */
  readonly nodePassword?: string;
  /** Real time (default) or virtual time (`fleet/virtual.ts`: what it leaves out is in docs/cli.md). */
  readonly clock?: Clock;
  /**
   * Whether the run starts its own twins service (default true). Only a virtual run may go without:
   * the in-memory broker's traffic then stands in for the twins' registration view.
   */
  readonly twins?: boolean;
}

/** The fields whose absence means something (no broker given, no store, …): they stay optional. */
export type UnsetFields =
  | "gilbertElliott"
  | "broker"
  | "profileOverrides"
  | "faultsSpec"
  | "brokerData"
  | "twinsData"
  | "login"
  | "nodePassword";

export type ResolvedFleetOptions = Required<Omit<FleetOptions, UnsetFields>> &
  Pick<FleetOptions, UnsetFields>;

export const MAX_NODES = 20_000;
/** On virtual time a fleet is bounded by memory, not by sockets and threads. */
export const MAX_VIRTUAL_NODES = 200_000;

/** The numeric fields: their range, and whether they count whole things. */
export const NUMBER_FIELDS = {
  nodes: { min: 1, max: MAX_NODES, integer: true },
  groupSize: { min: 2, max: MAX_NODES, integer: true },
  follows: { min: 1, max: 8, integer: true },
  ratePerNodePerMin: { min: 0, max: 600, integer: false },
  lossPct: { min: 0, max: 90, integer: false },
  durationS: { min: 1, max: 86_400, integer: false },
  settleS: { min: 0, max: 3_600, integer: false },
  workers: { min: 0, max: 64, integer: true },
  progressEveryS: { min: 0.2, max: 3_600, integer: false },
  pressesEndEarlyS: { min: 0, max: 86_400, integer: false },
} as const satisfies Record<string, { min: number; max: number; integer: boolean }>;
export type NumberField = keyof typeof NUMBER_FIELDS;

/** What a numeric field must be, e.g. `a whole number from 1 to 20000`. */
export function expectation(field: NumberField): string {
  const f = NUMBER_FIELDS[field];
  return `${f.integer ? "a whole number" : "a number"} from ${f.min} to ${f.max}`;
}

/** Beside the real-time range of `nodes`, where a virtual run's ends. */
const VIRTUAL_NODES_HINT = ` (${MAX_VIRTUAL_NODES} on virtual time)`;

/** What a value given for `field` must be, whatever the clock (`nodes` has a range for each). */
export function anyClockExpectation(field: NumberField): string {
  return field === "nodes" ? `${expectation(field)}${VIRTUAL_NODES_HINT}` : expectation(field);
}

const show = (v: unknown): string =>
  typeof v === "number" ? String(v) : typeof v === "string" ? shown(v) : (JSON.stringify(v) ?? String(v));

function numberIn(field: NumberField) {
  const { min, max, integer } = NUMBER_FIELDS[field];
  const error = (i: { input?: unknown }) => `must be ${expectation(field)}, got ${show(i.input)}`;
  return (integer ? z.int({ error }) : z.number({ error })).min(min, { error }).max(max, { error });
}

const nonEmpty = (what: string) =>
  z.string({ error: `must be ${what}` }).refine((s) => s.trim() !== "", `must be ${what}, got ""`);
const probability = z.number({ error: "must be a probability from 0 to 1" }).min(0).max(1);
const bool = z.boolean({ error: (i) => `must be true or false, got ${show(i.input)}` });

/** Simulated nodes speak plain TCP, as a W5100 does: mqtt:// (or tcp://), a host, an optional port. */
export function brokerUrlProblem(s: string): string | undefined {
  const got = `got ${shown(withoutUserInfo(s))}`;
  const text = urlTextProblem(s);
  if (text !== undefined) return `${text}, ${got}`;
  const bracketed = bracketedIpv6(s);
  if (bracketed !== undefined) return `an IPv6 address goes in brackets, as in ${bracketed}, ${got}`;
  const port = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)/.exec(s)?.[1];
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) {
    return `the port must be 1-65535, ${got}`;
  }
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `must be a URL like mqtt://host:1883, ${got}`;
  }
  if (u.protocol !== "mqtt:" && u.protocol !== "tcp:") {
    return `must be mqtt://host:port: simulated nodes speak plain TCP like a W5100, ${got}`;
  }
  if (u.hostname === "") return `needs a host, as in mqtt://host:1883, ${got}`;
  if (u.username !== "" || u.password !== "")
    return "must not hold a user name or password: give them as login";
  const parts = urlPartsProblem(u);
  return parts === undefined ? undefined : `${parts}, ${got}`;
}

/** Profile values to replace, by section and field: plain numbers, as the model sees them. */
export type ProfileOverrides = Readonly<Record<string, Readonly<Record<string, number>>>>;
export const profileOverridesSchema = z.record(z.string(), z.record(z.string(), z.number().finite()));

const loginSchema = z.strictObject(
  {
    username: z.string({ error: "must be a string" }).optional(),
    password: z.string({ error: "must be a string" }).optional(),
    tls: z.looseObject({}, { error: "must be an object" }).optional(),
  },
  { error: "must be an object with username, password or tls" },
);

/** A topic prefix or an id base: 1-12 of A-Z a-z 0-9 _ -. */
const shortName = () =>
  z.string({ error: "must be a string" }).regex(/^[A-Za-z0-9_-]{1,12}$/, {
    error: (i) => `must be 1-12 of A-Z a-z 0-9 _ -, got ${show(i.input)}`,
  });

const schema = z.strictObject(
  {
    nodes: z
      .int({ error: (i) => `must be ${anyClockExpectation("nodes")}, got ${show(i.input)}` })
      .min(1, { error: (i) => `must be ${anyClockExpectation("nodes")}, got ${show(i.input)}` })
      .max(MAX_VIRTUAL_NODES, {
        error: (i) =>
          `must be a whole number from 1 to ${MAX_VIRTUAL_NODES} on virtual time, got ${show(i.input)}`,
      })
      .optional(),
    profile: z
      .string({ error: "must be a string" })
      .refine((p) => /^[a-z0-9-]{1,16}$/.test(p) || p.endsWith(".json"), {
        error: (i) => `must be a profile name like uno-w5100 or a .json file, got ${show(i.input)}`,
      })
      .optional(),
    topology: z
      .union([z.enum(TOPOLOGY_KINDS), z.strictObject({ file: nonEmpty("a file name") })], {
        error: (i) =>
          `must be one of ${TOPOLOGY_KINDS.join(", ")} or { file } naming a pairing file, got ${show(i.input)}`,
      })
      .optional(),
    groupSize: numberIn("groupSize").optional(),
    follows: numberIn("follows").optional(),
    ratePerNodePerMin: numberIn("ratePerNodePerMin").optional(),
    lossPct: numberIn("lossPct").optional(),
    gilbertElliott: z
      .strictObject(
        {
          pGoodToBad: probability,
          pBadToGood: probability.refine((p) => p > 0, "must be above 0, or the link never recovers"),
          lossBad: probability,
        },
        { error: "must be { pGoodToBad, pBadToGood, lossBad }, each a probability from 0 to 1" },
      )
      .optional(),
    lossMode: z
      .enum(LOSS_MODES, { error: (i) => `must be ${LOSS_MODES.join(" or ")}, got ${show(i.input)}` })
      .optional(),
    seed: z
      .string({ error: "must be a string" })
      .min(1, "must be 1-64 characters")
      .max(64, "must be 1-64 characters")
      .optional(),
    durationS: numberIn("durationS").optional(),
    settleS: numberIn("settleS").optional(),
    broker: z
      .string({ error: "must be a URL like mqtt://host:1883" })
      .superRefine((s, ctx) => {
        const problem = brokerUrlProblem(s);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    workers: numberIn("workers").optional(),
    prefix: shortName().optional(),
    idBase: shortName().optional(),
    progressEveryS: numberIn("progressEveryS").optional(),
    profileOverrides: profileOverridesSchema.optional(),
    pressesEndEarlyS: numberIn("pressesEndEarlyS").optional(),
    // Checked by the schedule's own schema below, which names the entry and its field.
    faults: z.array(z.unknown(), { error: "must be a list of fault entries" }).optional(),
    faultsSpec: nonEmpty("a label").optional(),
    brokerProcess: bool.optional(),
    brokerData: nonEmpty("a directory").optional(),
    twinsData: nonEmpty("a directory").optional(),
    fresh: bool.optional(),
    login: loginSchema.optional(),
    nodePassword: z.string({ error: "must be a string" }).optional(),
    clock: z
      .enum(CLOCKS, { error: (i) => `must be ${CLOCKS.join(" or ")}, got ${show(i.input)}` })
      .optional(),
    twins: bool.optional(),
  },
  { error: "must be an object of fleet options" },
);

function zodIssues(error: z.ZodError): FleetOptionIssue[] {
  return error.issues.flatMap((issue): FleetOptionIssue[] => {
    const [field, ...rest] = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) =>
        field === undefined
          ? { field: k, text: () => "is not a fleet option" }
          : { field, subpath: [...rest, k].join("."), text: () => "is not one of its fields" },
      );
    }
    const subpath = rest.join(".");
    return [{ field: field ?? "(root)", ...(subpath ? { subpath } : {}), text: () => issue.message }];
  });
}

/**
 * Validates `options` and fills in the defaults; throws FleetOptionsError naming every bad field
 * (`options.nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got 0`). Nothing is started or read.
 */
export function resolveFleetOptions(options: FleetOptions = {}): ResolvedFleetOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw new FleetOptionsError(zodIssues(parsed.error));
  // A field given as undefined is a field not given: it gets its default.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: ResolvedFleetOptions = { ...DEFAULTS, ...(given as FleetOptions) };
  const issues: FleetOptionIssue[] = [];
  const add = (field: string, text: (name: FieldNamer) => string) => issues.push({ field, text });
  let faults: FaultEntry[] = [];
  try {
    faults = parseSchedule([...o.faults], "faults");
    checkScheduleFits(faults, { durationS: o.durationS, ids: fleetIds(o.nodes, o.idBase) });
  } catch (e) {
    const message = (e as Error).message.replace(/^faults: /, "");
    add("faults", () => message);
  }
  if (o.broker !== undefined && (o.brokerProcess || o.brokerData !== undefined)) {
    add(
      "broker",
      (n) =>
        `names someone else's broker; ${n("brokerProcess")} and ${n("brokerData")} are for a broker the run starts`,
    );
  }
  // Only a random topology picks sources within a group; any other fixes who follows whom. (The
  // default stands for none: options resolved once, which hold it, resolve again unchanged.)
  if (o.follows !== DEFAULTS.follows && o.topology !== "random") {
    const topology = typeof o.topology === "string" ? o.topology : `a pairing file (${o.topology.file})`;
    add(
      "follows",
      (n) =>
        `is for ${n("topology")} random (the sources each node picks in its group); ${topology} says who follows whom`,
    );
  }
  if (o.broker === undefined && o.fresh) {
    add(
      "fresh",
      (n) => `clears the fleet's retained state on a ${n("broker")}; the run's own broker starts empty`,
    );
  }
  if (o.broker !== undefined && faults.some((f) => f.kind === "broker-restart")) {
    add(
      "faults",
      (n) =>
        `a broker-restart needs a broker the run starts itself (drop ${n("broker")}, or add ${n("brokerProcess")} to run it in its own process); ${o.broker} is someone else's`,
    );
  }
  issues.push(...kernelLossIssues(o, faults));
  if (o.clock === "virtual") issues.push(...virtualIssues(o, faults, (options.workers ?? 0) > 0));
  else if (!o.twins)
    add(
      "twins",
      (n) => `a run without twins needs ${n("clock")} virtual: a real run always has its twins service`,
    );
  if (o.clock !== "virtual" && o.nodes > MAX_NODES) {
    add(
      "nodes",
      (n) =>
        `must be ${expectation("nodes")} on real time, got ${o.nodes} (up to ${MAX_VIRTUAL_NODES} with ${n("clock")} virtual)`,
    );
  }
  if (o.pressesEndEarlyS >= o.durationS) {
    add("pressesEndEarlyS", (n) => `must be below ${n("durationS")} (${o.durationS} s), or no press is made`);
  }
  if (issues.length > 0) throw new FleetOptionsError(issues);
  const faultsSpec =
    o.faultsSpec ?? (faults.length > 0 ? faults.map((f) => `${f.kind}@${f.atS}`).join(",") : undefined);
  return { ...o, faults, ...(faultsSpec !== undefined ? { faultsSpec } : {}) };
}

/**
 * The link loss a run's nodes get at `pct` percent: Bernoulli, or Gilbert–Elliott; none when the
 * kernel loses their packets instead (`lossMode: "kernel"`).
 */
export function lossSpecOf(opts: ResolvedFleetOptions, pct: number): LossSpec {
  if (opts.lossMode === "kernel") return { kind: "none" };
  const ge = opts.gilbertElliott;
  if (ge) return { kind: "gilbert-elliott", ...ge, lossGood: pct / 100 };
  return pct > 0 ? { kind: "bernoulli", p: pct / 100 } : { kind: "none" };
}
