/**
 * The model judged against several recorded kernel runs at once (`calibrate --model-only --real
 * a.json,b.json,…`): the runs pooled per level-rate as the model's seeds are, the model against
 * that pool (and against each `--traffic` pooled alone when the runs mix them), the kernel's own
 * spread (each run against the pool of the others), and the count of level-runs in the target.
 * The model's sides can be saved (`--model-save FILE`) and judged again without rerunning them
 * (`--model-from FILE`); `--before FILE` (sides saved from another link) says which level-runs a
 * change moved into the target and which out of it.
 */
import { writeFileSync } from "node:fs";
import { FILE_LIMITS, readUserText } from "../protocol/user-file.js";
import {
  compare,
  type KernelRun,
  kernelRun,
  kernelSpread,
  markdownTable,
  misses,
  poolKernel,
  type Row,
  type Side,
  spreadTable,
  targetCount,
  targetLine,
} from "./calibrate-table.js";
import { arg } from "./record.js";

/** The model's sides per level-rate, as saved: `${lossPct}/${ratePerS}` → side. */
export interface ModelSides {
  readonly clients: number;
  readonly seconds: number;
  readonly seeds: number;
  readonly sides: Record<string, Side>;
}

const key = (lossPct: number, ratePerS: number) => `${lossPct}/${ratePerS}`;

function readJson(flag: string, file: string): unknown {
  const text = readUserText(file, { what: flag, maxBytes: FILE_LIMITS.fleet, error: (m) => new Error(m) });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${flag} ${file}: not JSON (${(e as Error).message})`);
  }
}

/** Saved model sides, checked against the levels and fleet they must cover. */
export function readSides(
  flag: string,
  file: string,
  clients: number,
  seconds: number,
  levels: string[],
): ModelSides {
  const m = readJson(flag, file) as Partial<ModelSides>;
  if (typeof m.sides !== "object" || m.sides === null || m.clients !== clients || m.seconds !== seconds) {
    throw new Error(`${flag} ${file}: not model sides of ${clients} clients, ${seconds} s`);
  }
  const missing = levels.filter((k) => (m.sides as Record<string, Side>)[k] === undefined);
  if (missing.length > 0)
    throw new Error(`${flag} ${file}: no model side for ${missing.join(", ")} (loss/rate)`);
  return m as ModelSides;
}

/** Rows of the model against each level-rate of `runs` pooled. */
function judged(runs: readonly KernelRun[], model: ModelSides): Row[] {
  return poolKernel(runs).levels.map((l) =>
    compare(l.lossPct, l.ratePerS, l.real, model.sides[key(l.lossPct, l.ratePerS)] as Side),
  );
}

/** Level-runs a change moved into the target (missed before, meets it after) and out of it. */
export function moved(before: readonly Row[], after: readonly Row[]): { into: number; out: number } {
  let into = 0;
  let out = 0;
  after.forEach((a, i) => {
    const b = before[i] as Row;
    if (b.lossPct !== a.lossPct || b.ratePerS !== a.ratePerS)
      throw new Error("moved: rows of different levels");
    const was = misses(b).length === 0;
    const is = misses(a).length === 0;
    if (!was && is) into++;
    if (was && !is) out++;
  });
  return { into, out };
}

export async function judgePooled(
  argv: readonly string[],
  files: readonly string[],
  seeds: number,
  modelSide: (
    clients: number,
    rate: number,
    seconds: number,
    lossPct: number,
    seeds: number,
  ) => Promise<Side>,
): Promise<void> {
  const flag = (f: string) => arg(argv, f, "") || undefined;
  const runs = files.map((f) => kernelRun(f, readJson("--real", f)));
  const all = poolKernel(runs);
  const levels = all.levels.map((l) => key(l.lossPct, l.ratePerS));
  const from = flag("--model-from");
  let model: ModelSides;
  if (from !== undefined) {
    model = readSides("--model-from", from, all.clients, all.seconds, levels);
  } else {
    const sides: Record<string, Side> = {};
    for (const l of all.levels) {
      console.error(`model: ${l.lossPct} %, ${l.ratePerS}/s, ${seeds} seed(s)`);
      sides[key(l.lossPct, l.ratePerS)] = await modelSide(
        all.clients,
        l.ratePerS,
        all.seconds,
        l.lossPct,
        seeds,
      );
    }
    model = { clients: all.clients, seconds: all.seconds, seeds, sides };
  }
  const save = flag("--model-save");
  if (save !== undefined) writeFileSync(save, `${JSON.stringify(model, null, 2)}\n`);
  const beforeFile = flag("--before");
  const before =
    beforeFile === undefined
      ? undefined
      : readSides("--before", beforeFile, all.clients, all.seconds, levels);

  const traffics = [...new Set(runs.map((r) => r.traffic))];
  const groups: [string, KernelRun[]][] = [[`all ${runs.length} kernel runs`, [...runs]]];
  if (traffics.length > 1) {
    for (const t of traffics) groups.push([`${t} traffic`, runs.filter((r) => r.traffic === t)]);
  }
  const say = (s: string) => console.log(s);
  say(`model: ${model.seeds} seed(s) per level, pooled; kernel: ${files.join(", ")}\n`);
  for (const [name, group] of groups) {
    const rows = judged(group, model);
    say(`### The model against ${name}, pooled\n\n${markdownTable(rows)}\n`);
    say(`model against the pool: ${targetLine(targetCount(rows.map(misses)))}`);
    if (before !== undefined) {
      const m = moved(judged(group, before), rows);
      say(`against ${beforeFile}: ${m.into} level-runs into the target, ${m.out} out of it`);
    }
    const singles = group.flatMap((r) =>
      r.rows.map((w) =>
        misses(compare(w.lossPct, w.ratePerS, w.real, model.sides[key(w.lossPct, w.ratePerS)] as Side)),
      ),
    );
    say(`model against each run alone: ${targetLine(targetCount(singles))}\n`);
    const spread = kernelSpread(poolKernel(group).levels);
    if (spread.length > 0) {
      say(
        `### The kernel's own spread (${name}): each run against the pool of the others\n\n${spreadTable(spread)}\n`,
      );
      say(`kernel run against the others: ${targetLine(targetCount(spread.map((s) => s.misses)))}\n`);
    }
  }
}
