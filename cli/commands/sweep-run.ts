/**
 * What `twinfleet sweep` runs (declared in cli/commands/sweep.ts, which loads this module only when
 * it runs): the flags checked up front, the sweep with a progress line per point, its files and
 * its summary.
 */
import { join } from "node:path";
import { type Clock, expectation, resolveFleetOptions } from "../../fleet/options.js";
import { FILE_LIMITS, jsonProblem, readUserText } from "../../protocol/user-file.js";
import { disturbedShort, disturbedWords } from "../../sweep/disturbed.js";
import { externalCaseProblem, virtualCaseProblem } from "../../sweep/fault-cases.js";
import { writeSweep } from "../../sweep/files.js";
import type { PointResult } from "../../sweep/point.js";
import { ResumeError } from "../../sweep/resume.js";
import { adjustScenario, loadScenario, type Scenario, ScenarioError } from "../../sweep/scenario.js";
import { runSweep, type SweepProgress, type SweepReport } from "../../sweep/sweep.js";
import { displayUrl, splitBrokerUrl } from "../../twins/index.js";
import { UsageError } from "../errors.js";
import { numberFlag, wholeNumberFlag, withFlagNamesSync } from "../fleet-flags.js";
import { type FleetLoginFlags, fleetLogin } from "../fleet-login.js";
import type { CliIO } from "../main.js";
import { checkOutputDir, writeOutputFile } from "../output-path.js";
import { notRegisteredWhy } from "../sim-summary.js";
import { holdSweepOut } from "../sweep-out-lock.js";
import { CUT_SHORT_EXIT, STOP_SIGNALS } from "./sim.js";

export interface RawSweepOptions extends FleetLoginFlags {
  scenario?: string;
  out?: string;
  quick?: boolean;
  nodes?: string;
  seconds?: string;
  workers?: string;
  clock?: string;
  resume?: boolean;
}

export async function runSweepCommand(raw: RawSweepOptions, io: CliIO): Promise<void> {
  let scenarios: Scenario[];
  let workers: number | undefined;
  let clock: Clock | undefined;
  let login: ReturnType<typeof fleetLogin> = { login: {} };
  try {
    login = fleetLogin(raw, io.env ?? process.env);
    io.secret?.(login.login.password);
    io.secret?.(login.nodePassword);
    const nodes = wholeNumberFlag("--nodes", raw.nodes, 2, 2000);
    const seconds = wholeNumberFlag("--seconds", raw.seconds, 2, 600);
    // Every point is a fleet run: its worker count is checked as the fleet checks it, up front.
    const w = numberFlag("--workers", raw.workers, expectation("workers"));
    workers =
      w === undefined ? undefined : withFlagNamesSync(() => resolveFleetOptions({ workers: w })).workers;
    clock =
      raw.clock === undefined
        ? undefined
        : withFlagNamesSync(() => resolveFleetOptions({ clock: raw.clock as Clock })).clock;
    if (raw.broker !== undefined) {
      withFlagNamesSync(() => resolveFleetOptions({ broker: splitBrokerUrl(raw.broker as string).url }));
      if (clock === "virtual")
        throw new UsageError(
          "--broker: needs real time (a real broker, real sockets); --clock virtual runs the nodes on an in-memory broker",
        );
    }
    const names = (raw.scenario ?? "paper,settings").split(",").map((s) => s.trim());
    if (names.some((n) => n === "")) throw new UsageError("--scenario: has an empty name");
    scenarios = names.map((n) =>
      adjustScenario(scenarioFlag(n), {
        quick: raw.quick === true,
        ...(nodes !== undefined ? { nodes } : {}),
        ...(seconds !== undefined ? { seconds } : {}),
      }),
    );
    if (clock === "virtual" && workers !== undefined)
      throw new UsageError("--workers: --clock virtual runs every node in one thread");
    const [flag, caseProblem] =
      clock === "virtual"
        ? ["--clock virtual", virtualCaseProblem]
        : raw.broker !== undefined
          ? ["--broker", externalCaseProblem]
          : ["", () => undefined];
    for (const sc of scenarios) {
      for (const c of sc.faults?.cases ?? []) {
        const problem = caseProblem(c);
        if (problem) throw new UsageError(`${flag}: scenario ${sc.name}, fault case ${c.name}: ${problem}`);
      }
    }
    checkOutputDir("--out", raw.out ?? "sweep-report");
  } catch (e) {
    if (e instanceof UsageError || e instanceof ScenarioError) {
      io.stderr(`twinfleet sweep: ${e.message}\n(run twinfleet sweep --help for usage)\n`);
      io.exit?.(2);
      return;
    }
    throw e;
  }
  const out = raw.out ?? "sweep-report";
  let release: () => void;
  try {
    release = holdSweepOut(out);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`twinfleet sweep: ${e.message}\n(run twinfleet sweep --help for usage)\n`);
    io.exit?.(2);
    return;
  }
  try {
    await sweepInOut(raw, io, { scenarios, workers, clock, login, out, release });
  } finally {
    release();
  }
}

/** The sweep, its files and its summary, in `out` held by this process (`release` lets it go). */
async function sweepInOut(
  raw: RawSweepOptions,
  io: CliIO,
  o: {
    scenarios: Scenario[];
    workers: number | undefined;
    clock: Clock | undefined;
    login: ReturnType<typeof fleetLogin>;
    out: string;
    release: () => void;
  },
): Promise<void> {
  const { scenarios, workers, clock, login, out } = o;
  let resume: { report: unknown; path: string } | undefined;
  if (raw.resume === true) {
    try {
      resume = readResume(out);
    } catch (e) {
      if (!(e instanceof ResumeError)) throw e;
      io.stderr(`twinfleet sweep: ${e.message}\n(run twinfleet sweep --help for usage)\n`);
      io.exit?.(2);
      return;
    }
  }
  // Ctrl-C: the point under way finishes and the points done are written, marked cut short (exit
  // 130); a second one stops at once, writing nothing.
  const stop = new AbortController();
  const onSigint = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      o.release();
      process.exit(CUT_SHORT_EXIT);
    }
    // The signal is the reason: the report names one that is not Ctrl-C (SIGTERM from systemd).
    stop.abort(signal);
    const by = signal === "SIGINT" ? "" : `${signal}: `;
    const again = signal === "SIGINT" ? "Ctrl-C" : `${signal} or Ctrl-C`;
    io.stderr(
      `twinfleet sweep: ${by}stopping after the point under way; its files will hold the points done (${again} again: stop now, the files as the last point done wrote them)\n`,
    );
  };
  process.on("SIGINT", onSigint);
  // SIGTERM and SIGHUP as a first Ctrl-C: the points done are written.
  for (const s of STOP_SIGNALS) process.on(s, onSigint);
  // The points done so far, written after each: a sweep killed before its end (kill -9, out of
  // memory, a power cut) leaves them for --resume. A write that fails is said once a spell, and
  // the sweep goes on: its end writes the files again.
  let unwritten: string | undefined;
  // How many points the report.json in --out holds: the one this run last wrote, or the one resumed.
  let onDisk: number | undefined;
  const reportPath = join(out, "report.json");
  const write = (r: SweepReport) =>
    writeSweep(out, r, (path, w) => {
      writeOutputFile("--out", path, w);
      if (path === reportPath) onDisk = r.cutShort?.done ?? pointsOf(r);
    });
  const checkpoint = (r: SweepReport) => {
    try {
      write(r);
      if (unwritten !== undefined)
        io.stderr(`twinfleet sweep: the ${r.cutShort?.done} points done are written to ${out}/ again\n`);
      unwritten = undefined;
    } catch (e) {
      const why = (e as Error).message;
      if (unwritten === undefined)
        io.stderr(
          `twinfleet sweep: cannot write the points done so far: ${why}; the sweep goes on, and writes its files again after each point and at its end\n`,
        );
      unwritten = why;
    }
  };
  let report: SweepReport;
  try {
    report = await runSweep(scenarios, {
      quick: raw.quick === true,
      ...(workers !== undefined ? { workers } : {}),
      ...(clock !== undefined ? { clock } : {}),
      ...(login.url !== undefined
        ? {
            broker: login.url,
            login: login.login,
            ...(login.nodePassword !== undefined ? { nodePassword: login.nodePassword } : {}),
          }
        : {}),
      signal: stop.signal,
      ...(resume ? { resume } : {}),
      onStart: ({ total, etaS, kept, toRun }) => {
        // Resumed: the report.json read holds the points kept until this run writes one.
        if (kept) onDisk = kept.length;
        io.stderr(
          `twinfleet sweep: ${scenarios.map((s) => s.name).join(", ")}${raw.quick ? " (quick)" : ""} → ${out}/: ${total} points${raw.broker !== undefined ? ` on ${displayUrl(raw.broker)}` : ""}, ${kept ? resumedPlan(kept, toRun ?? [], etaS) : `about ${duration(etaS)}`}\n`,
        );
      },
      onCheckpoint: (r) => checkpoint(r),
      onPoint: (p) => io.stderr(`${progressLine(p)}\n`),
      onBrokerWait: (news) =>
        io.stderr(
          "error" in news
            ? `twinfleet sweep: point ${news.point}: ${news.error}; waiting for the broker, trying again every 2 s for up to ${news.waitS} s (Ctrl-C: stop, writing the points done)\n`
            : `twinfleet sweep: point ${news.point}: the broker answered again after ${news.backAfterS.toFixed(1)} s\n`,
        ),
    });
  } finally {
    process.off("SIGINT", onSigint);
    for (const s of STOP_SIGNALS) process.off(s, onSigint);
  }
  // The summary first: a sweep of minutes whose files cannot be written (a full disk) still shows it.
  io.stdout(summary(report));
  let files: string[];
  try {
    files = write(report);
  } catch (e) {
    // What --out holds now: the points a report.json of this run wrote there, for --resume.
    const done = report.cutShort?.done ?? pointsOf(report);
    const left =
      onDisk === undefined
        ? ""
        : `; ${reportPath} holds ${onDisk === done ? "the" : `${onDisk} of the`} ${done} points done: once --out can be written, twinfleet sweep --resume with the same flags ${onDisk < (report.cutShort?.of ?? done) ? "runs the rest" : "runs no point"} and writes every file`;
    throw new Error(`${(e as Error).message}${left}`);
  }
  io.stdout(`wrote ${files.join(", ")}\n`);
  // A point that failed is the sweep's failure (exit 1), its points done kept; Ctrl-C is 130.
  const failed = report.cutShort?.failed;
  if (failed) {
    io.stderr(`twinfleet sweep: point ${failed.point} failed: ${failed.error}\n`);
    io.exit?.(1);
  } else if (report.cutShort) io.exit?.(CUT_SHORT_EXIT);
}

/** report.json of --out, read and parsed for --resume; what is wrong with it a ResumeError. */
function readResume(out: string): { report: unknown; path: string } {
  const path = join(out, "report.json");
  const text = readUserText(path, {
    maxBytes: FILE_LIMITS.fleet,
    what: "--resume",
    error: (message) => new ResumeError(`${message} (the report of the sweep to resume, in --out)`),
  });
  try {
    return { report: JSON.parse(text), path };
  } catch (e) {
    throw new ResumeError(`--resume: ${path} is not JSON: ${jsonProblem(text, e)}`);
  }
}

/** What a resumed sweep keeps and runs, e.g. `3 kept (paper: 0% loss … paper: 15% loss), 2 to run from paper: 25% loss, about 4 s`. */
export function resumedPlan(kept: readonly string[], toRun: readonly string[], etaS: number): string {
  const keptText =
    kept.length === 0
      ? "none kept"
      : `${kept.length} kept (${kept.length === 1 ? kept[0] : `${kept[0]} … ${kept.at(-1)}`})`;
  if (toRun.length === 0) return `resumed: ${keptText}, nothing left to run`;
  return `resumed: ${keptText}, ${toRun.length} to run from ${toRun[0]}, about ${duration(etaS)}`;
}

/** A --scenario name or file; what is wrong with it names the flag. */
function scenarioFlag(name: string): Scenario {
  try {
    return loadScenario(name);
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(`--scenario: ${e.message}`);
    throw e;
  }
}

/** e.g. `45 s`, `1 min 21 s`. */
export function duration(s: number): string {
  const r = Math.round(s);
  return r < 60 ? `${r} s` : `${Math.floor(r / 60)} min ${String(r % 60).padStart(2, "0")} s`;
}

export function progressLine(p: SweepProgress): string {
  const head = `[${String(p.index).padStart(2)}/${p.total}] ${p.label}`;
  const eta = `${duration(p.elapsedS)} elapsed, ETA ${duration(p.etaS)}`;
  const pt = p.point;
  if (!pt) return `${head} — ${eta}`;
  const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
  const nr = pt.registration.notRegistered;
  const marks = `${pt.sim.keptUp ? "" : ", SIM LAGGED"}${pt.brokerLost ? `, BROKER LOST ${pt.brokerLost.s.toFixed(1)} s` : ""}${nr ? `, ${nr.nodes} of ${pt.registration.nodes} NOT REGISTERED: ${notRegisteredWhy(nr)}` : ""}${pt.disturbed ? `, ${disturbedWords(pt.disturbed)}` : ""}`;
  const fc = p.faultCase;
  if (fc) {
    const rec = fc.faults.map((f) => (f.recoveryMs === null ? "not recovered" : ms(f.recoveryMs)));
    return `${head}: recovery ${rec.join(", ") || "—"}, later than 5 s ${fc.late}, lost for good ${fc.lostForGood}, regressions ${fc.regressions}, sync p99 outside ${ms(fc.syncOutsideFaults.p99Ms)} — ${fc.meetsGoal ? "pass" : "FAIL"}${marks} — ${eta}`;
  }
  return `${head}: echo p99 ${ms(pt.echo.p99)}, sync p99 ${ms(pt.sync.p99)}, lost ${pt.lost}, registration max ${(pt.registration.maxMs / 1000).toFixed(1)} s${marks} — ${eta}`;
}

export function summary(r: SweepReport): string {
  const lines: string[] = [""];
  const cut = r.cutShort;
  if (cut?.failed)
    lines.push(
      `STOPPED: point ${cut.failed.point} failed: ${cut.failed.error}`,
      `CUT SHORT: ${cut.done} of ${cut.of} points run; the tables hold those only`,
    );
  else if (cut)
    lines.push(
      `CUT SHORT: ${cut.done} of ${cut.of} points run (${cut.signal ?? "Ctrl-C"}); the tables hold those only`,
    );
  if (r.broker !== undefined) lines.push(`every fleet point on ${r.broker}: its delay is in the figures`);
  if (r.plan?.clock === "virtual")
    lines.push(
      "every fleet point on virtual time (--clock virtual): the model's figures, without the host's delays",
    );
  for (const s of r.scenarios) {
    if (s.loss?.length) {
      lines.push(`${s.name}: loss  echo p50/p99      sync p50/p99      lost  registration max  kept up`);
      for (const p of s.loss) {
        lines.push(
          `  ${String(p.lossPct).padStart(3)}%   ${p.echo.p50.toFixed(1).padStart(6)} / ${p.echo.p99.toFixed(0).padStart(5)} ms  ${p.sync.p50.toFixed(1).padStart(6)} / ${p.sync.p99.toFixed(0).padStart(5)} ms  ${String(p.lost).padStart(4)}  ${(p.registration.maxMs / 1000).toFixed(1).padStart(8)} s        ${p.sim.keptUp ? "yes" : "NO"}${p.brokerLost ? `   BROKER LOST ${p.brokerLost.s.toFixed(1)} s` : ""}${p.registration.notRegistered ? `   ${p.registration.notRegistered.nodes} NOT REGISTERED` : ""}${disturbedMark(p)}`,
        );
      }
    }
    if (s.cpu) {
      lines.push(`${s.name}: CPU (model busy / with idle polls / paper)`);
      for (const c of s.cpu.rows) {
        lines.push(
          `  ${c.case.padEnd(22)} ${String(c.lossPct).padStart(2)}%  ${c.utilizationPct.toFixed(2).padStart(6)} % / ${c.withPollingPct.toFixed(1)} % / ${c.paperPct === null ? "—" : `${c.paperPct} %`}`,
        );
      }
    }
    if (s.settings) {
      lines.push(`${s.name}: setting (sync p99 / lost at ${s.settings.lossPct.join(", ")} %)`);
      const variants = [...new Set(s.settings.points.map((p) => p.variant))];
      for (const v of variants) {
        const ps = s.settings.points.filter((p) => p.variant === v);
        lines.push(
          `  ${v.padEnd(28)} ${ps.map((p) => `${p.sync.p99.toFixed(0)} ms / ${p.lost}`).join("   ")}   ${ps.every((p) => p.meetsGoal) ? "meets the goal" : ""}${ps.map(disturbedMark).join("")}`,
        );
      }
    }
    if (s.faults) {
      lines.push(
        `${s.name}: fault case (recovery per fault / later than 5 s / lost for good / sync p99 outside the faults)`,
      );
      const width = Math.max(28, ...s.faults.cases.map((c) => c.name.length));
      for (const c of s.faults.cases) {
        const rec = c.faults.map((f) =>
          f.recoveryMs === null ? "never" : `${(f.recoveryMs / 1000).toFixed(1)} s`,
        );
        lines.push(
          `  ${c.name.padEnd(width)} ${rec.join(", ").padStart(8)} / ${c.late} / ${c.lostForGood} / ${c.syncOutsideFaults.p99Ms.toFixed(0)} ms   ${c.meetsGoal ? "meets the requirement" : "FAILS the requirement"}${disturbedMark(c)}`,
        );
      }
    }
  }
  lines.push(`all points kept up: ${r.allKeptUp ? "yes" : "NO (see the report)"}`);
  const disturbed = r.scenarios.flatMap((s) =>
    [...(s.loss ?? []), ...(s.settings?.points ?? []), ...(s.faults?.cases ?? [])].filter((p) => p.disturbed),
  ).length;
  if (disturbed > 0)
    lines.push(
      `DISTURBED: ${disturbed === 1 ? "1 point mixes" : `${disturbed} points mix`} in what else went on (marked above, and on each point's line): their figures are not the fleet's alone`,
    );
  lines.push("");
  return lines.join("\n");
}

/** A summary row's mark for a point whose figures mix in something else; nothing when none. */
function disturbedMark(p: PointResult): string {
  return p.disturbed ? `   DISTURBED: ${disturbedShort(p.disturbed)}` : "";
}

/** How many points a sweep report holds (every step's, the CPU table one). */
function pointsOf(r: SweepReport): number {
  return r.scenarios.reduce(
    (a, s) =>
      a +
      (s.loss?.length ?? 0) +
      (s.cpu ? 1 : 0) +
      (s.settings?.points.length ?? 0) +
      (s.faults?.cases.length ?? 0),
    0,
  );
}
