/**
 * The sweep on both clocks, side by side: the same scenarios and seeds as `twinfleet sweep` on the
 * wall clock and with `--clock virtual`, and every fleet point's sync and echo p50 / p90 / p99 with
 * the virtual figure's distance from the wall clock's.
 *   npm run bench -- sweep-clocks [--scenario paper,settings] [--wall DIR] [--virtual DIR]
 * `--wall DIR` / `--virtual DIR` reuse a sweep's report.json (`twinfleet sweep --out DIR`) instead of
 * running it again. Prints a Markdown table (✗: more than 10 % apart at a loss of 5 % or more) and
 * records the counts. The sweeps it runs write into temporary directories, removed when it ends.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { arg, record } from "./record.js";
import { removeScratch, scratchDir, trackChild } from "./scratch.js";

const CLI = new URL("../cli/bin.ts", import.meta.url).pathname;
const FIGURES = ["p50", "p90", "p99"] as const;
const KINDS = ["sync", "echo"] as const;
const TOLERANCE = 0.1;

type Percentiles = Record<(typeof FIGURES)[number], number>;
interface Point {
  readonly lossPct: number;
  readonly sync: Percentiles;
  readonly echo: Percentiles;
  readonly sim: { readonly keptUp: boolean };
  readonly variant?: string;
}
interface Scenario {
  readonly name: string;
  readonly loss?: readonly Point[];
  readonly settings?: { readonly points: readonly Point[] };
}

/** Runs `twinfleet sweep` into a fresh directory; resolves with its report and wall time. */
function sweep(scenario: string, clock: "real" | "virtual"): Promise<{ dir: string; wallS: number }> {
  const dir = scratchDir(`tf-sweep-${clock}-`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const p = trackChild(
      spawn(
        process.execPath,
        ["--import", "tsx", CLI, "sweep", "--scenario", scenario, "--clock", clock, "--out", dir],
        { stdio: ["ignore", "ignore", "inherit"] },
      ),
    );
    p.on("error", reject);
    p.on("exit", (code) =>
      code === 0
        ? resolve({ dir, wallS: (performance.now() - started) / 1000 })
        : reject(new Error(`twinfleet sweep --clock ${clock} exited with ${code}`)),
    );
  });
}

function points(dir: string): Map<string, Point> {
  const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as {
    scenarios: Scenario[];
  };
  const out = new Map<string, Point>();
  for (const s of report.scenarios) {
    for (const p of s.loss ?? []) out.set(`${s.name} | ${p.lossPct} %`, p);
    for (const p of s.settings?.points ?? []) out.set(`${s.name}: ${p.variant} | ${p.lossPct} %`, p);
  }
  return out;
}

const ms = (v: number) => (v >= 100 ? String(Math.round(v)) : v.toFixed(1));

export async function sweepClocks(argv: string[]): Promise<void> {
  const scenario = arg(argv, "--scenario", "paper,settings");
  const wallDir = arg(argv, "--wall", "");
  const virtualDir = arg(argv, "--virtual", "");
  const wall = wallDir !== "" ? { dir: wallDir, wallS: Number.NaN } : await sweep(scenario, "real");
  const virt = virtualDir !== "" ? { dir: virtualDir, wallS: Number.NaN } : await sweep(scenario, "virtual");
  const a = points(wall.dir);
  const b = points(virt.dir);
  if (wallDir === "") removeScratch(wall.dir);
  if (virtualDir === "") removeScratch(virt.dir);
  const header = KINDS.flatMap((k) => FIGURES.map((f) => `${k} ${f} wall / virtual (ms)`));
  const lines = [
    `| point | loss | ${header.join(" | ")} |`,
    `| --- | ---: |${" ---: |".repeat(header.length)}`,
  ];
  let judged = 0;
  let outside = 0;
  let notKeptUp = 0;
  const byFigure: Record<string, { judged: number; outside: number }> = {};
  for (const [key, w] of a) {
    const v = b.get(key);
    if (!v) continue;
    if (!w.sim.keptUp) notKeptUp++;
    const cells = KINDS.flatMap((k) =>
      FIGURES.map((f) => {
        const x = w[k][f];
        const y = v[k][f];
        const d = x > 0 ? (y - x) / x : 0;
        const counted = w.lossPct >= 5;
        const off = counted && Math.abs(d) > TOLERANCE;
        if (counted) {
          judged++;
          const name = `${k} ${f}`;
          const slot = byFigure[name] ?? { judged: 0, outside: 0 };
          byFigure[name] = slot;
          slot.judged++;
          if (off) {
            outside++;
            slot.outside++;
          }
        }
        return `${ms(x)} / ${ms(y)} (${d >= 0 ? "+" : ""}${Math.round(d * 100)} %)${off ? " ✗" : ""}`;
      }),
    );
    const [name, loss] = key.split(" | ");
    lines.push(`| ${name} | ${loss}${w.sim.keptUp ? "" : " (behind)"} | ${cells.join(" | ")} |`);
  }
  console.log(lines.join("\n"));
  console.log(
    `\n${outside} of ${judged} figures at ≥ 5 % loss more than ${TOLERANCE * 100} % apart; wall-clock points behind: ${notKeptUp}`,
  );
  record("sweep-clocks", {
    scenario,
    wallClockS: Math.round(wall.wallS),
    virtualS: Math.round(virt.wallS * 10) / 10,
    ...(wallDir !== "" ? { wallDir } : {}),
    ...(virtualDir !== "" ? { virtualDir } : {}),
    judged,
    outside,
    byFigure,
    wallPointsBehind: notKeptUp,
  });
}
