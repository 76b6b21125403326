/**
 * Sweep scenarios (profiles/scenarios/*.json): the zod schema a scenario file is checked against,
 * the loader, and the reduced form `--quick` runs. A scenario has up to four parts — the paper's
 * loss sweep (Fig. 7, Fig. 8, registration), the CPU cases of its table, a sweep of device settings
 * under loss, and fault cases (one fleet run per fault schedule) — and the fleet every point runs.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { packageRoot } from "../node/paths.js";
import { OptionError } from "../protocol/index.js";
import { shown, shownPath } from "../protocol/shown.js";
import { FILE_LIMITS, readUserText } from "../protocol/user-file.js";
import { fleetIds, TOPOLOGY_KINDS } from "../sim/topology.js";
import { type FaultEntry, faultCaseEntries, faultCasesSchema, scaleSchedule } from "./fault-schedule.js";

const pct = z.number().finite().min(0).max(90);

const fleetSchema = z
  .object({
    nodes: z.number().int().min(2).max(2000),
    seconds: z.number().finite().min(2).max(600),
    topology: z.enum(TOPOLOGY_KINDS),
    groupSize: z.number().int().min(2).max(64),
    ratePerNodePerMin: z.number().finite().positive().max(600),
    profile: z.string().min(1),
    seed: z.string().min(1).max(64),
    settleS: z.number().finite().min(0).max(60).default(2),
  })
  .strict();

const lossSchema = z.object({ levelsPct: z.array(pct).min(1).max(20) }).strict();

const cpuSchema = z
  .object({
    lossPct: z.array(pct).min(1).max(4),
    /** Modeled minutes per case (fake time: the cost is milliseconds of host time). */
    minutes: z.number().finite().positive().max(120),
    normalPressPerMin: z.number().finite().positive().max(600),
    spamPressPerSec: z.number().finite().positive().max(50),
    spamNotificationsPerSec: z.number().finite().positive().max(200),
  })
  .strict();

const variantSchema = z
  .object({
    name: z.string().min(1).max(40),
    /** What a user would change to get it, shown beside the result. */
    how: z.string().min(1),
    overrides: z.record(z.string(), z.record(z.string(), z.number().finite())),
  })
  .strict();

const settingsSchema = z
  .object({
    lossPct: z.array(pct).min(1).max(6),
    variants: z.array(variantSchema).min(1).max(20),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.variants.forEach((v, i) => {
      if (seen.has(v.name)) {
        ctx.addIssue({ code: "custom", path: ["variants", i, "name"], message: `repeats ${v.name}` });
      }
      seen.add(v.name);
    });
  });

export const scenarioSchema = z
  .object({
    $about: z.string().optional(),
    name: z.string().regex(/^[a-z0-9-]{1,24}$/, "must be 1-24 characters of a-z 0-9 -"),
    fleet: fleetSchema,
    loss: lossSchema.optional(),
    cpu: cpuSchema.optional(),
    settings: settingsSchema.optional(),
    faults: faultCasesSchema.optional(),
  })
  .strict()
  .refine(
    (s) => s.loss !== undefined || s.cpu !== undefined || s.settings !== undefined || s.faults !== undefined,
    { message: "needs at least one of loss, cpu, settings, faults" },
  )
  .superRefine((s, ctx) => {
    // Each case's schedule must fit the fleet: faults start while the presses run, on its own nodes.
    const ids = fleetIds(s.fleet.nodes);
    s.faults?.cases.forEach((c, i) => {
      let entries: FaultEntry[];
      try {
        entries = faultCaseEntries(c, { seconds: s.fleet.seconds, ids });
      } catch (e) {
        ctx.addIssue({
          code: "custom",
          path: ["faults", "cases", i, "schedule"],
          message: (e as Error).message,
        });
        return;
      }
      if (c.brokerData === true && !entries.some((e) => e.kind === "broker-restart")) {
        ctx.addIssue({
          code: "custom",
          path: ["faults", "cases", i, "brokerData"],
          message: "keeps the broker's store across a broker-restart, and this case has none",
        });
      }
    });
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type Variant = z.infer<typeof variantSchema>;
export type FaultCase = NonNullable<Scenario["faults"]>["cases"][number];

export class ScenarioError extends OptionError {
  override readonly name = "ScenarioError";
}

export const SCENARIOS_DIR = `${join(packageRoot(), "profiles", "scenarios")}/`;

/** Validates a parsed scenario; every message names the field. */
export function parseScenario(json: unknown, origin: string): Scenario {
  const r = scenarioSchema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new ScenarioError(`${origin}: invalid sweep scenario\n${lines.join("\n")}`);
  }
  return r.data;
}

/** Loads a scenario by name from profiles/scenarios/, or from a path ending in `.json`. */
export function loadScenario(nameOrPath: string): Scenario {
  const file = nameOrPath.endsWith(".json");
  const path = file ? nameOrPath : `${SCENARIOS_DIR}${nameOrPath}.json`;
  const names = () =>
    readdirSync(SCENARIOS_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length))
      .sort();
  // A name is one of the scenarios there are (not a path: `../x` is no scenario).
  if (!file && (!/^[A-Za-z0-9_-]+$/.test(nameOrPath) || !names().includes(nameOrPath)))
    throw new ScenarioError(
      `no scenario ${shown(nameOrPath)}: the scenarios are ${names().join(", ")}, or a scenario file ending in .json`,
    );
  const text = readUserText(path, { maxBytes: FILE_LIMITS.settings, error: (m) => new ScenarioError(m) });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`${shownPath(path)}: not valid JSON (${(e as Error).message})`);
  }
  return parseScenario(json, shownPath(path));
}

/** Command-line changes to a scenario. */
export interface ScenarioAdjust {
  readonly quick?: boolean;
  readonly nodes?: number;
  readonly seconds?: number;
}

/**
 * The scenario as it will run. `quick` keeps the shape and cuts the cost: three loss levels (first,
 * middle, last), 20 nodes for 5 s, one modeled minute per CPU case, two variants at the highest loss,
 * and every fault case with its times scaled to the shorter presses (a fault at 10 s of 45 s starts
 * at 1.1 s of 5 s, and lasts as much shorter).
 */
export function adjustScenario(s: Scenario, a: ScenarioAdjust): Scenario {
  let out = s;
  if (a.quick) {
    const pick3 = (xs: readonly number[]) =>
      xs.length <= 3
        ? [...xs]
        : [xs[0] as number, xs[Math.floor(xs.length / 2)] as number, xs.at(-1) as number];
    const quickSeconds = Math.min(out.fleet.seconds, 5);
    out = {
      ...out,
      fleet: { ...out.fleet, nodes: Math.min(out.fleet.nodes, 20), seconds: quickSeconds },
      ...(out.loss ? { loss: { levelsPct: pick3(out.loss.levelsPct) } } : {}),
      ...(out.cpu ? { cpu: { ...out.cpu, minutes: Math.min(out.cpu.minutes, 1) } } : {}),
      ...(out.settings
        ? {
            settings: {
              lossPct: [out.settings.lossPct.at(-1) as number],
              variants: out.settings.variants.slice(0, 2),
            },
          }
        : {}),
      ...(out.faults
        ? {
            faults: {
              ...out.faults,
              cases: out.faults.cases.map((c) =>
                quickSeconds < out.fleet.seconds
                  ? { ...c, schedule: scaleSchedule(faultCaseEntries(c), quickSeconds / out.fleet.seconds) }
                  : c,
              ),
            },
          }
        : {}),
    };
  }
  const fleet = {
    ...out.fleet,
    ...(a.nodes !== undefined ? { nodes: a.nodes } : {}),
    ...(a.seconds !== undefined ? { seconds: a.seconds } : {}),
  };
  return parseScenario({ ...out, fleet }, `scenario ${s.name}`);
}
