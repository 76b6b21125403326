/**
 * The faults part of a sweep scenario: named cases, each one fleet run with a fault schedule — presets
 * as `twinfleet sim --faults` takes them ("broker-restart@5,power-outage@20") or the entries inline —
 * read with the fault schedule's own presets and parser, checked against the fleet (every fault
 * starts while the presses run; node lists name the fleet's nodes), scaled for `--quick`, and
 * described in words for the report.
 */

import { z } from "zod";
import { FAULT_PRESETS } from "../fleet/faults/presets.js";
import {
  checkScheduleFits,
  type FaultEntry,
  FaultScheduleError,
  type NodeSelection,
  parseSchedule,
} from "../fleet/faults/schedule.js";
import type { NodeId } from "../protocol/index.js";
import { assertNever } from "../protocol/index.js";

export type { FaultEntry };

const caseSchema = z
  .object({
    name: z.string().min(1).max(40),
    /** Presets separated by commas, each optionally `@S` (seconds into the presses); or the entries. */
    schedule: z.union([z.string().min(1), z.array(z.unknown()).min(1).max(20)], {
      error: 'must be presets like "broker-restart@5" or a list of fault entries',
    }),
    /** The broker keeps its store on disk (LevelDB, a temporary directory) across its restarts. */
    brokerData: z.boolean().optional(),
  })
  .strict();

export const faultCasesSchema = z
  .object({
    /** Packet loss during every case, percent. */
    lossPct: z.number().finite().min(0).max(90).default(0),
    cases: z.array(caseSchema).min(1).max(20),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.cases.forEach((c, i) => {
      if (seen.has(c.name)) {
        ctx.addIssue({ code: "custom", path: ["cases", i, "name"], message: `repeats ${c.name}` });
      }
      seen.add(c.name);
    });
  });

/** What a case's entries must fit: the seconds of presses and the fleet's node ids. */
export interface FleetFit {
  readonly seconds: number;
  readonly ids: readonly NodeId[];
}

/**
 * A case's entries, from its presets or its inline entries, optionally checked against the fleet.
 * Throws FaultScheduleError with a message that starts at the schedule (`[1].forS must be above 0`),
 * for the caller to put behind the field's path.
 */
export function faultCaseEntries(
  c: { readonly schedule: string | readonly unknown[] },
  fit?: FleetFit,
): FaultEntry[] {
  const entries = typeof c.schedule === "string" ? presets(c.schedule) : inline(c.schedule);
  if (fit) checkFits(entries, fit);
  return entries;
}

function presets(spec: string): FaultEntry[] {
  return spec.split(",").map((raw) => {
    const part = raw.trim();
    const m = /^([a-z-]+)(?:@(\d+(?:\.\d+)?))?$/.exec(part);
    const p = m ? FAULT_PRESETS[m[1] as string] : undefined;
    if (!m || !p) {
      throw new FaultScheduleError(
        `${JSON.stringify(part)} is not a preset; presets: ${Object.keys(FAULT_PRESETS).join(", ")} (add @S to start S s into the presses, e.g. broker-restart@5), or give the entries inline`,
      );
    }
    return m[2] === undefined ? p.entry : { ...p.entry, atS: Number(m[2]) };
  });
}

function inline(list: readonly unknown[]): FaultEntry[] {
  try {
    return parseSchedule(list, "schedule");
  } catch (e) {
    if (!(e instanceof FaultScheduleError)) throw e;
    // parseSchedule names entries as `faults[i].field`; here they sit under the case's schedule.
    throw new FaultScheduleError(
      e.message.replace(/^schedule: /, "").replaceAll(/(^|; )faults(?=\[)/g, "$1"),
    );
  }
}

function checkFits(entries: readonly FaultEntry[], fit: FleetFit): void {
  entries.forEach((e, i) => {
    if (e.atS >= fit.seconds) {
      throw new FaultScheduleError(
        `[${i}] (${e.kind}) starts at ${e.atS} s, when the presses have ended (fleet.seconds is ${fit.seconds}): start it earlier or press longer`,
      );
    }
  });
  try {
    checkScheduleFits(entries, { durationS: Number.POSITIVE_INFINITY, ids: fit.ids });
  } catch (e) {
    if (!(e instanceof FaultScheduleError)) throw e;
    throw new FaultScheduleError(e.message.replace(/^faults/, ""));
  }
}

/** The schedule with every time and duration multiplied by `k` (to 0.1 s; durations at least 0.1 s). */
export function scaleSchedule(entries: readonly FaultEntry[], k: number): FaultEntry[] {
  return entries.map((e) => scaleEntry(e, k));
}

function scaleEntry(e: FaultEntry, k: number): FaultEntry {
  const at = (s: number) => Math.round(s * k * 10) / 10;
  const span = (s: number) => Math.max(0.1, at(s));
  switch (e.kind) {
    case "broker-restart":
    case "twins-restart":
      return { ...e, atS: at(e.atS), downS: span(e.downS) };
    case "power-outage":
      return { ...e, atS: at(e.atS), offS: span(e.offS) };
    case "partition":
    case "frozen-client":
      return { ...e, atS: at(e.atS), forS: span(e.forS) };
    case "loss":
      return { ...e, atS: at(e.atS), ...(e.forS !== undefined ? { forS: span(e.forS) } : {}) };
    default:
      assertNever(e);
  }
}

/** One entry in words: `partition of 10% at 5 s for 30 s`. */
export function describeEntry(e: FaultEntry): string {
  const nodes = (n: { readonly nodes: NodeSelection }) =>
    n.nodes === "all"
      ? "all nodes"
      : typeof n.nodes === "number"
        ? `${n.nodes} node${n.nodes === 1 ? "" : "s"}`
        : Array.isArray(n.nodes)
          ? n.nodes.join(" ")
          : `${n.nodes} of the nodes`;
  switch (e.kind) {
    case "broker-restart":
      return `broker killed at ${e.atS} s, back ${e.downS} s later`;
    case "twins-restart":
      return `twins service killed at ${e.atS} s, back ${e.downS} s later`;
    case "power-outage":
      return `power outage of ${nodes(e)} at ${e.atS} s for ${e.offS} s`;
    case "partition":
      return `partition of ${nodes(e)} at ${e.atS} s for ${e.forS} s`;
    case "frozen-client":
      return `a client stops reading${e.topic ? ` ${e.topic}` : ""} at ${e.atS} s for ${e.forS} s`;
    case "loss":
      return `${e.pct}% loss at ${e.atS} s${e.forS !== undefined ? ` for ${e.forS} s` : " on"}`;
    default:
      assertNever(e);
  }
}
