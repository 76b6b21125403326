/**
 * The sweep's output files: report.json (everything), one CSV per figure (loss.csv for Fig. 7, Fig. 8
 * and registration; cpu.csv for the CPU table; settings.csv for the settings sweep; faults.csv for
 * the fault cases) and report.html.
 */
import { join } from "node:path";
import { makeDir } from "../node/make-dir.js";
import { writeFileWhole } from "../node/whole-file.js";
import { disturbedWords } from "./disturbed.js";
import { renderHtml } from "./html.js";
import type { SweepReport } from "./sweep.js";

export function csv(
  header: readonly string[],
  rows: readonly (readonly (string | number | boolean | null)[])[],
): string {
  const cell = (v: string | number | boolean | null) => {
    const s = v === null ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return `${[header, ...rows].map((r) => r.map(cell).join(",")).join("\n")}\n`;
}

const PCT = ["count", "p5", "p25", "p50", "p75", "p95", "p99", "max", "mean"] as const;

export function lossCsv(r: SweepReport): string {
  const rows = r.scenarios.flatMap((s) =>
    (s.loss ?? []).map((p) => [
      s.name,
      p.lossPct,
      ...PCT.map((k) => p.echo[k]),
      p.echoLate,
      ...PCT.map((k) => p.sync[k]),
      p.presses,
      p.deliveries,
      p.lost,
      p.diverged,
      p.registration.registered,
      p.registration.nodes,
      p.registration.p50Ms,
      p.registration.maxMs,
      p.cpuMeanPct,
      p.link.retransmissions,
      p.link.timeouts,
      p.link.reconnects,
      p.sim.keptUp,
      p.sim.lagP99Ms,
      p.brokerLost?.s ?? 0,
      p.disturbed ? disturbedWords(p.disturbed) : "",
    ]),
  );
  return csv(
    [
      "scenario",
      "lossPct",
      ...PCT.map((k) => `echo_${k}${k === "count" ? "" : "Ms"}`),
      "echoLate",
      ...PCT.map((k) => `sync_${k}${k === "count" ? "" : "Ms"}`),
      "presses",
      "deliveries",
      "lost",
      "diverged",
      "registered",
      "nodes",
      "registrationP50Ms",
      "registrationMaxMs",
      "cpuMeanPct",
      "retransmissions",
      "timeouts",
      "reconnects",
      "keptUp",
      "lagP99Ms",
      "brokerLostS",
      "disturbed",
    ],
    rows,
  );
}

/** The CPU table's columns after its scenario, each a field of a CPU row (`case` its name, `paperPct` a number or null). */
export const CPU_COLUMNS = [
  "case",
  "lossPct",
  "utilizationPct",
  "withPollingPct",
  "paperPct",
  "workCycles",
  "blockedCycles",
  "pollCycles",
  "elapsedCycles",
  "presses",
  "notifications",
  "packetsIn",
  "packetsOut",
  "retransmissions",
  "reconnects",
] as const;

export function cpuCsv(r: SweepReport): string {
  const rows = r.scenarios.flatMap((s) =>
    (s.cpu?.rows ?? []).map((c) => [
      s.name,
      c.case,
      c.lossPct,
      round(c.utilizationPct, 4),
      round(c.withPollingPct, 3),
      c.paperPct,
      c.workCycles,
      c.blockedCycles,
      c.pollCycles,
      c.elapsedCycles,
      c.presses,
      c.notifications,
      c.packetsIn,
      c.packetsOut,
      c.retransmissions,
      c.reconnects,
    ]),
  );
  return csv(["scenario", ...CPU_COLUMNS], rows);
}

export function settingsCsv(r: SweepReport): string {
  const rows = r.scenarios.flatMap((s) =>
    (s.settings?.points ?? []).map((p) => [
      s.name,
      p.variant,
      JSON.stringify(p.overrides),
      p.lossPct,
      p.sync.p50,
      p.sync.p99,
      p.sync.max,
      p.echo.p50,
      p.echo.p99,
      p.lost,
      p.echoLate,
      p.meetsGoal,
      p.link.retransmissions,
      p.link.timeouts,
      p.link.reconnects,
      p.link.segments,
      p.cpuMeanPct,
      p.registration.maxMs,
      p.sim.keptUp,
      p.brokerLost?.s ?? 0,
      p.disturbed ? disturbedWords(p.disturbed) : "",
    ]),
  );
  return csv(
    [
      "scenario",
      "variant",
      "overrides",
      "lossPct",
      "syncP50Ms",
      "syncP99Ms",
      "syncMaxMs",
      "echoP50Ms",
      "echoP99Ms",
      "lost",
      "echoLate",
      "meetsGoal",
      "retransmissions",
      "timeouts",
      "reconnects",
      "segments",
      "cpuMeanPct",
      "registrationMaxMs",
      "keptUp",
      "brokerLostS",
      "disturbed",
    ],
    rows,
  );
}

/** One row per fault of each fault case, the case's run-wide figures repeated on each. */
export function faultsCsv(r: SweepReport): string {
  const rows = r.scenarios.flatMap((s) =>
    (s.faults?.cases ?? []).flatMap((c) => {
      const run = [
        c.presses,
        c.syncOutsideFaults.count,
        c.syncOutsideFaults.p50Ms,
        c.syncOutsideFaults.p99Ms,
        c.syncOutsideFaults.maxMs,
        c.late,
        c.lostForGood,
        c.lostOutsideFaults,
        c.regressions,
        c.diverged,
        c.requirements.syncP99Under1s,
        c.requirements.nothingLost,
        c.meetsGoal,
        c.sim.keptUp,
        c.sim.wallS,
        c.disturbed ? disturbedWords(c.disturbed) : "",
      ];
      const head = [s.name, c.name, c.broker.kind, c.broker.durable, c.lossPct];
      const faults = c.faults.length > 0 ? c.faults : [undefined];
      return faults.map((f) => [
        ...head,
        f?.kind ?? null,
        f?.atMs ?? null,
        f?.durationMs ?? null,
        f?.nodes ?? null,
        f?.disconnected ?? null,
        f?.recoveryMs ?? null,
        f?.reregisteredMaxMs ?? null,
        f?.offlineDetectedMaxMs ?? null,
        f?.pressesDuring ?? null,
        f?.lateBeyond5s ?? null,
        f?.lostForGood ?? null,
        f?.pct ?? null,
        f?.cutAfterMs ?? null,
        f?.frozenAfterMs ?? null,
        f?.held ?? null,
        f?.heldBy?.join(" ") ?? null,
        f?.error ?? null,
        ...run,
      ]);
    }),
  );
  return csv(
    [
      "scenario",
      "case",
      "broker",
      "brokerDurable",
      "lossPct",
      "fault",
      "atMs",
      "durationMs",
      "nodes",
      "disconnected",
      "recoveryMs",
      "reregisteredMaxMs",
      "offlineDetectedMaxMs",
      "pressesDuring",
      "lateBeyond5s",
      "faultLostForGood",
      "faultPct",
      "cutAfterMs",
      "frozenAfterMs",
      "held",
      "heldBy",
      "error",
      "presses",
      "syncOutside_count",
      "syncOutside_p50Ms",
      "syncOutside_p99Ms",
      "syncOutside_maxMs",
      "late",
      "lostForGood",
      "lostOutsideFaults",
      "regressions",
      "diverged",
      "syncP99Under1s",
      "nothingLost",
      "meetsGoal",
      "keptUp",
      "wallS",
      "disturbed",
    ],
    rows,
  );
}

/**
 * A CSV's first line when the sweep was cut short, before its header: `#` first, so a script skips
 * it (pandas `comment="#"`, R `comment.char="#"`, `grep -v '^#'`), and one cell without a comma or
 * a semicolon, so a spreadsheet shows it whole above the table. Nothing for a whole sweep.
 */
export function partialMark(r: SweepReport): string {
  const cut = r.cutShort;
  if (!cut) return "";
  const why = cut.inProgress
    ? "written while the sweep ran (if it runs no more it was killed)"
    : cut.failed
      ? "a point failed (report.json says which and why)"
      : `stopped (${cut.signal ?? "Ctrl-C"})`;
  return `# CUT SHORT: ${cut.done} of ${cut.of} points run - ${why} - this file holds those only - twinfleet sweep --resume with the same flags runs the rest\n`;
}

/** Each file's name and text. */
export function sweepTexts(r: SweepReport): [string, string][] {
  return [
    ["report.json", `${JSON.stringify(r, null, 2)}\n`],
    ["loss.csv", partialMark(r) + lossCsv(r)],
    ["cpu.csv", partialMark(r) + cpuCsv(r)],
    ["settings.csv", partialMark(r) + settingsCsv(r)],
    ["faults.csv", partialMark(r) + faultsCsv(r)],
    ["report.html", renderHtml(r)],
  ];
}

/**
 * Writes every file; returns their paths. Each write (the directory's first) goes through `guard`,
 * which can name what fails: the CLI names the flag and the file, on a disk that filled meanwhile.
 */
export function writeSweep(
  dir: string,
  r: SweepReport,
  guard: (path: string, write: () => void) => void = (_path, write) => write(),
): string[] {
  guard(dir, () => makeDir(dir));
  return sweepTexts(r).map(([name, text]) => {
    const path = join(dir, name);
    guard(path, () => writeFileWhole(path, text));
    return path;
  });
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
