/**
 * Fault schedules (`twinfleet sim --faults FILE|PRESET`): the timed events a fleet run injects — a
 * broker restart, a power outage, a partition, loss steps and bursts, a twins restart, a frozen
 * client — validated once, with errors that name the entry and field, and the named presets. Times
 * count from the start of the press phase, when the fleet is up. Node sets ("all", "10%", a count or
 * a list) are drawn from the run's seed, so a schedule picks the same nodes on every run.
 */

import { existsSync } from "node:fs";
import seedrandom from "seedrandom";
import { z } from "zod";
import { assertNever, decimalHint, isDecimal, isNodeId, NodeId, OptionError } from "../../protocol/index.js";
import { shown, shownPath } from "../../protocol/shown.js";
import { FILE_LIMITS, readUserText } from "../../protocol/user-file.js";
import { FAULT_PRESETS } from "./presets.js";

export const FAULT_KINDS = [
  "broker-restart",
  "power-outage",
  "partition",
  "loss",
  "twins-restart",
  "frozen-client",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const seconds = (what: string) =>
  z
    .number({ error: `must be a number of seconds (${what})` })
    .finite()
    .min(0, "must not be negative");
const positiveSeconds = (what: string) =>
  z
    .number({ error: `must be a number of seconds (${what})` })
    .finite()
    .gt(0, "must be above 0")
    .max(3600, "must be at most 3600");

/** "all", "10%", a count of nodes, or a list of node ids. */
const nodesSchema = z.union(
  [
    z.literal("all"),
    z
      .string()
      .regex(/^\d+(\.\d+)?%$/, 'must be "all", a share like "10%", a count, or a list of node ids')
      .refine((s) => {
        const v = Number.parseFloat(s);
        return v > 0 && v <= 100;
      }, "must be a share above 0% and at most 100%"),
    z.number().int("must be a whole number of nodes").min(1, "must be at least 1"),
    z
      .array(z.string().refine(isNodeId, "is not a node id"))
      .min(1, "must name at least one node")
      .refine((ids) => new Set(ids).size === ids.length, {
        error: (i) => `names ${repeated(i.input as string[])} more than once`,
      }),
  ],
  { error: 'must be "all", a share like "10%", a count, or a list of node ids' },
);
export type NodeSelection = z.infer<typeof nodesSchema>;

function repeated(ids: readonly string[]): string {
  const seen = new Set<string>();
  return ids.find((id) => seen.has(id) || !seen.add(id)) ?? "a node";
}

const entrySchema = z.discriminatedUnion(
  "kind",
  [
    z
      .object({ kind: z.literal("broker-restart"), atS: seconds("atS"), downS: positiveSeconds("downS") })
      .strict(),
    z
      .object({
        kind: z.literal("power-outage"),
        atS: seconds("atS"),
        offS: positiveSeconds("offS"),
        nodes: nodesSchema,
      })
      .strict(),
    z
      .object({
        kind: z.literal("partition"),
        atS: seconds("atS"),
        forS: positiveSeconds("forS"),
        nodes: nodesSchema,
      })
      .strict(),
    z
      .object({
        kind: z.literal("loss"),
        atS: seconds("atS"),
        pct: z.number().finite().min(0, "must be 0-90").max(90, "must be 0-90"),
        /** A burst: back to the loss before it after this long. Without it, a step that stays. */
        forS: positiveSeconds("forS").optional(),
      })
      .strict(),
    z
      .object({ kind: z.literal("twins-restart"), atS: seconds("atS"), downS: positiveSeconds("downS") })
      .strict(),
    z
      .object({
        kind: z.literal("frozen-client"),
        atS: seconds("atS"),
        forS: positiveSeconds("forS"),
        /** What it subscribes to before it stops reading; default: everything of the fleet's prefix. */
        topic: z.string().min(1).max(200).optional(),
      })
      .strict(),
  ],
  { error: `must be one of ${FAULT_KINDS.join(", ")}` },
);
export type FaultEntry = z.infer<typeof entrySchema>;

const fileSchema = z.union([
  z.object({ $about: z.string().optional(), faults: z.array(entrySchema).max(100) }).strict(),
  z.array(entrySchema).max(100),
]);

export class FaultScheduleError extends OptionError {
  override readonly name = "FaultScheduleError";
}

/**
 * `--faults` as given: a JSON file, or presets separated by commas, each optionally `@S` to start
 * S seconds into the presses (`broker-restart@5,power-outage@40`).
 */
export function loadFaultSchedule(spec: string): FaultEntry[] {
  const trimmed = spec.trim();
  if (trimmed === "") throw new FaultScheduleError("--faults needs a file or a preset");
  if (trimmed.endsWith(".json") || existsSync(trimmed)) return readScheduleFile(trimmed);
  return trimmed.split(",").map((part) => preset(part.trim()));
}

function preset(part: string): FaultEntry {
  const at = part.indexOf("@");
  const name = at < 0 ? part : part.slice(0, at);
  const start = at < 0 ? undefined : part.slice(at + 1);
  const p = Object.hasOwn(FAULT_PRESETS, name) ? FAULT_PRESETS[name] : undefined;
  if (p !== undefined && start !== undefined && !(isDecimal(start) && !start.startsWith("-"))) {
    throw new FaultScheduleError(
      `--faults: ${shown(part)}: the start after @ must be seconds into the presses, a number ≥ 0 (e.g. ${name}@30), got ${shown(start)}${decimalHint(start)}`,
    );
  }
  if (!p) {
    throw new FaultScheduleError(
      `--faults: ${shown(part)} is neither a .json file nor a preset; presets: ${Object.keys(FAULT_PRESETS).join(", ")} (add @S to start at S s, e.g. broker-restart@30)`,
    );
  }
  return start === undefined ? p.entry : { ...p.entry, atS: Number(start) };
}

export function readScheduleFile(file: string): FaultEntry[] {
  const text = readUserText(file, {
    what: "--faults",
    maxBytes: FILE_LIMITS.settings,
    error: (m) => new FaultScheduleError(m),
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FaultScheduleError(`--faults: ${shownPath(file)} is not JSON: ${(e as Error).message}`);
  }
  return parseSchedule(json, file);
}

/** Validates a schedule (an object with `faults`, or a bare array); errors name entry and field. */
export function parseSchedule(json: unknown, where = "faults"): FaultEntry[] {
  const parsed = fileSchema.safeParse(json);
  if (parsed.success) return Array.isArray(parsed.data) ? parsed.data : parsed.data.faults;
  // The union hides which branch was meant: report against the object form when it is an object.
  const again = Array.isArray(json)
    ? z.array(entrySchema).safeParse(json)
    : z
        .object({ faults: z.array(entrySchema) })
        .passthrough()
        .safeParse(json);
  const issues = again.success ? parsed.error.issues : again.error.issues;
  const lines = issues.slice(0, 5).map((i) => {
    const path = i.path
      .filter((p) => p !== "faults")
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("");
    return `faults${path} ${i.message}`;
  });
  throw new FaultScheduleError(`${where}: ${lines.join("; ")}`);
}

/** When a fault starts and ends, in seconds from the start of the presses (`forS`-less loss: 0 s). */
export function faultSpanS(e: FaultEntry): { from: number; to: number } {
  switch (e.kind) {
    case "broker-restart":
    case "twins-restart":
      return { from: e.atS, to: e.atS + e.downS };
    case "power-outage":
      return { from: e.atS, to: e.atS + e.offS };
    case "partition":
    case "frozen-client":
      return { from: e.atS, to: e.atS + e.forS };
    case "loss":
      return { from: e.atS, to: e.atS + (e.forS ?? 0) };
    default:
      assertNever(e);
  }
}

/** Checks a schedule against the run it is for; throws naming the entry. */
export function checkScheduleFits(
  entries: readonly FaultEntry[],
  run: { readonly durationS: number; readonly ids: readonly NodeId[] },
): void {
  entries.forEach((e, i) => {
    if (e.atS >= run.durationS) {
      throw new FaultScheduleError(
        `faults[${i}] (${e.kind}) starts at ${e.atS} s, when the presses have ended (--duration ${run.durationS}): start it earlier or run longer`,
      );
    }
    if (
      (e.kind === "power-outage" || e.kind === "partition") &&
      typeof e.nodes === "number" &&
      e.nodes > run.ids.length
    ) {
      throw new FaultScheduleError(
        `faults[${i}].nodes: ${e.nodes} nodes, in a fleet of ${run.ids.length}: name at most ${run.ids.length}, or "all"`,
      );
    }
    if ((e.kind === "power-outage" || e.kind === "partition") && Array.isArray(e.nodes)) {
      const known = new Set<string>(run.ids);
      const unknown = e.nodes.filter((n) => !known.has(n));
      if (unknown.length > 0) {
        throw new FaultScheduleError(
          `faults[${i}].nodes: ${unknown.slice(0, 3).join(", ")}${unknown.length > 3 ? ", …" : ""} not in this fleet (ids run ${run.ids[0]} to ${run.ids[run.ids.length - 1]})`,
        );
      }
    }
  });
}

/** The nodes a selection names, drawn from the seed for shares and counts (the same on every run). */
export function selectNodes(
  sel: NodeSelection,
  ids: readonly NodeId[],
  seed: string,
  index: number,
): NodeId[] {
  if (sel === "all") return [...ids];
  if (Array.isArray(sel)) return sel.map((s) => NodeId(s));
  const count =
    typeof sel === "number"
      ? Math.min(sel, ids.length)
      : Math.max(1, Math.round((Number.parseFloat(sel) / 100) * ids.length));
  const rng = seedrandom(`${seed}/faults/${index}`);
  const pool = [...ids];
  // A partial Fisher-Yates shuffle: the first `count` of the pool.
  for (let i = 0; i < Math.min(count, pool.length); i++) {
    const j = i + Math.floor(rng() * (pool.length - i));
    const [a, b] = [pool[i], pool[j]];
    if (a === undefined || b === undefined) break;
    [pool[i], pool[j]] = [b, a];
  }
  return pool.slice(0, Math.min(count, pool.length)).sort();
}
