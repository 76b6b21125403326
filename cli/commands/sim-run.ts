/**
 * What `twinfleet sim` runs (declared in cli/commands/sim.ts, which loads this module only when it
 * runs): the flags checked into fleet options, then a shard (cli/commands/sim-shard.ts), a virtual
 * run split over threads (cli/commands/sim-split.ts) or a fleet run in this process, watched in the
 * console, over --http or by progress lines, and its summary, report and exit code.
 */

import { rmSync } from "node:fs";
import { whyNoConsole } from "../../console/terminal.js";
import { nodesAtWords } from "../../fleet/broker-address.js";
import { FleetStartStoppedError } from "../../fleet/ids-in-use.js";
import { type FleetOptions, type ResolvedFleetOptions, resolveFleetOptions } from "../../fleet/options.js";
import type { Progress } from "../../fleet/progress.js";
import { requirementFailures, writeReport } from "../../fleet/report.js";
import { writeUnfinishedMark } from "../../fleet/report-unfinished.js";
import { FleetRun } from "../../fleet/run.js";
import { threadDeathLine } from "../../fleet/thread-death.js";
import { SPEED_MAX } from "../../fleet/virtual-clock.js";
import { PartDeathError, VirtualSplitRun } from "../../fleet/virtual-split.js";
import { RealScheduler } from "../../node/scheduler.js";
import { isStdout } from "../../node/whole-file.js";
import { assertNever, decimalHint, isDecimal } from "../../protocol/index.js";
import { OptionError } from "../../protocol/option-error.js";
import { shown } from "../../protocol/shown.js";
import { takeStops, whileStarting } from "../early-hang-ups.js";
import { UsageError } from "../errors.js";
import {
  type FleetFlagValues,
  fleetOptionsFromFlags,
  withFlagNames,
  withFlagNamesSync,
} from "../fleet-flags.js";
import { type FleetLoginFlags, fleetLogin } from "../fleet-login.js";
import { checkHttpAddress, resolveHttpOptions, serveSim, tokenShown } from "../http.js";
import type { HttpFlags } from "../http-options.js";
import { beforeConsoleLogger, commandLogger } from "../log.js";
import type { LogSettings } from "../log-options.js";
import type { CliIO } from "../main.js";
import { checkOutputFile, writeOutputFile } from "../output-path.js";
import { progressLine, summary } from "../sim-summary.js";
import { startLines } from "../start-lines.js";
import { CUT_SHORT_EXIT, STOP_SIGNALS } from "./sim.js";
import { runSimShard, type ShardFlags } from "./sim-shard.js";
import { chooseVirtualSplit, oneThreadHeap } from "./sim-split.js";

/** Flags of the command itself, not of the fleet. */
interface SimOwnFlags {
  readonly headless?: boolean;
  readonly report?: string;
  readonly assert?: boolean;
  readonly speed?: string;
}

export type SimFlags = FleetFlagValues & SimOwnFlags & FleetLoginFlags & HttpFlags & ShardFlags;

export async function runSim(
  raw: SimFlags,
  program: { opts(): Record<string, unknown> },
  io: CliIO,
): Promise<void> {
  const login = fleetLogin(raw, io.env ?? process.env);
  const http = await resolveHttpOptions(raw, io.env ?? process.env);
  io.secret?.(login.login.password);
  io.secret?.(login.nodePassword);
  if (raw.report !== undefined) checkOutputFile("--report", raw.report);
  const speed = speedFlag(raw.speed, raw.clock);
  if (http !== undefined && raw.twins === false)
    throw new UsageError("--http shows the twins service's view of the fleet: leave out --no-twins");
  // The console shows the twins' view (on virtual time it sets the pace): without twins, progress
  // lines; a shard runs headless (its report is one part of the fleet's).
  // It needs a terminal to draw on and read keys from (console/terminal.ts): without one, progress lines.
  const noConsole = whyNoConsole(process.stdin, process.stdout, io.env ?? process.env);
  const wantsConsole = raw.headless !== true && raw.shard === undefined && raw.twins !== false;
  const interactive = wantsConsole && noConsole === undefined;
  const options: FleetOptions = {
    ...fleetOptionsFromFlags(raw),
    ...(login.url !== undefined ? { broker: login.url } : {}),
    ...(login.login.username !== undefined || login.login.password !== undefined
      ? { login: login.login }
      : {}),
    ...(login.nodePassword !== undefined ? { nodePassword: login.nodePassword } : {}),
    // With the console the presses go on until the user quits, unless --duration says otherwise.
    ...(interactive && raw.duration === undefined ? { durationS: 86_400 } : {}),
  };
  // Log lines would tear the console's screen, which shows the run's events itself: with the console,
  // only warnings before it opens (a wait for ids in use, say) reach the terminal.
  const early = interactive ? beforeConsoleLogger(io) : undefined;
  const logger = early?.logger ?? commandLogger(program, io);
  // The run's own broker and twins service are chatty at info (every client error under loss):
  // they log from warn up unless --log-level debug or trace asks for everything.
  const inner = logger.child({}, { level: logger.level === "info" ? "warn" : logger.level });
  // A shard of a fleet split over processes or machines (cli/commands/sim-shard.ts).
  if (raw.shard !== undefined || raw.shardReport !== undefined)
    return runSimShard(raw, options, io, io.env ?? process.env, CUT_SHORT_EXIT);
  // Readable lines for a person; with --log-format json every line is a JSON record.
  const json = (program.opts() as LogSettings).logFormat === "json";
  const note = (line: string) => (json ? logger.info(line) : io.stderr(`twinfleet sim: ${line}\n`));
  const watched = interactive || http !== undefined;
  // The options are checked first thing, before anything starts; their errors name the flags.
  // A headless virtual run goes over worker threads when its groups allow (cli/commands/sim-split.ts).
  const split = withFlagNamesSync(() =>
    chooseVirtualSplit(options, watched, raw.workers !== undefined, interactive ? () => {} : note),
  );
  // A virtual run in this thread must fit its heap (V8 would end it minutes in, out of memory).
  const heap =
    !split && options.clock === "virtual" ? oneThreadHeap(resolveFleetOptions(options).nodes) : undefined;
  if (heap?.fatal) throw new UsageError(heap.text);
  if (heap && !interactive) note(heap.text);
  if (http !== undefined) await checkHttpAddress(http);
  // The console's code (blessed, its widgets) is loaded before the run starts: loaded once the run
  // was under way, it held the main thread, where the run's broker and twins service work, for 0.2-0.4 s.
  const consoleCode = interactive ? await import("../../console/sim-console.js") : undefined;
  // Until its nodes boot the run tells its start's step every progress interval (it used to print
  // nothing, for ever on a broker that cut its claim's connection). A stop then ends the step under
  // way, nothing run; a second ends the process at once (cli/early-hang-ups.ts).
  const sched = new RealScheduler();
  const { progressEveryS } = withFlagNamesSync(() => resolveFleetOptions(options));
  const told = startLines(sched, progressEveryS * 1000, note);
  const starting = new AbortController();
  whileStarting(
    (signal) => {
      if (!starting.signal.aborted) note(told.stopLine(signal));
      starting.abort(signal);
    },
    { name: "twinfleet sim", doing: () => told.doing },
  );
  const control = { signal: starting.signal, step: told.step };
  // The start's lines end however the start does: a split run's start that threw left them going
  // every progress interval, and the process with them, after its error.
  let run: FleetRun | VirtualSplitRun | undefined;
  try {
    run = split
      ? startSplit(split.opts, options, split.ranges, inner)
      : await withFlagNames(() => FleetRun.start(options, inner, sched, control)).catch((e: unknown) => {
          if (!(e instanceof FleetStartStoppedError)) throw e;
          io.stderr(`twinfleet sim: ${String(e.reason)}: ${e.message}\n`);
          return undefined;
        });
  } finally {
    told.end();
  }
  if (run === undefined) {
    io.exit?.(CUT_SHORT_EXIT);
    return;
  }
  const fleet = run instanceof FleetRun ? run : undefined;
  if (split && split.ranges.length > 1) note(`virtual time over ${split.ranges.length} worker threads`);
  // Watched (the console, the page), a virtual run starts at real-time speed unless --speed says
  // otherwise (the console's keys and the page's controls change it); unwatched it goes flat out.
  const startPace = { speed: speed ?? (watched ? 1 : "max"), paused: false } as const;
  fleet?.virtual?.setPace(startPace);
  const opts = run.opts;
  const web =
    http && fleet
      ? await serveSim(fleet, http, {
          logger: interactive ? commandLogger(program, io) : logger,
          ...(io.secret ? { secret: io.secret } : {}),
          interactive,
          showToken: tokenShown(program, io),
        }).catch(async (e: unknown) => {
          // The run has started (its broker, its nodes): ended at once, or the process never exits.
          run.cut();
          await run.done.catch(() => undefined);
          throw e;
        })
      : undefined;
  // The console handles its own keys and signals; this one is for the headless run (and for a
  // Ctrl-C after the console has closed).
  const onSigint = () => {
    if (run.stopping) {
      // With the console open, the line comes once it has closed (it would land on its screen).
      if (!interactive && !run.cutShort) {
        io.stderr("twinfleet sim: cut short: writing the report with what is known\n");
      }
      run.cut();
      return;
    }
    run.stop();
    if (!interactive) {
      io.stderr(
        "twinfleet sim: presses stopped; settling before the report (Ctrl-C again: stop now, report cut short)\n",
      );
    }
  };
  process.on("SIGINT", onSigint);
  // SIGTERM and SIGHUP (systemd, Kubernetes, a closed terminal) give no time to settle: the run ends
  // now and its report, marked cut short, is written (it used to end the process with no report).
  const onTerm = (signal: NodeJS.Signals) => {
    if (!interactive && !run.cutShort)
      io.stderr(`twinfleet sim: ${signal}: cut short: writing the report with what is known\n`);
    run.cut();
  };
  for (const s of STOP_SIGNALS) process.on(s, onTerm);
  // Those heard while the process started and the run began (cli/early-hang-ups.ts) act now: they
  // used to end the process at once, leaving the twins' lock and a save's temporary file.
  for (const s of takeStops()) {
    if (s === "SIGINT") onSigint();
    else onTerm(s);
  }
  // Marked at the report's path while the run runs (fleet/report-unfinished.ts): a kill -9 left an
  // earlier run's report there, shown by `report show` as this one's.
  const mark = raw.report !== undefined && !isStdout(raw.report) ? raw.report : undefined;
  if (mark !== undefined) writeOutputFile("--report", mark, (p) => writeUnfinishedMark(p, Date.now()));
  let reported = false;
  try {
    if (consoleCode && fleet) {
      early?.quiet();
      await consoleCode.runSimConsole(fleet, startPace);
      if (run.cutShort) io.stderr("twinfleet sim: cut short: writing the report with what is known\n");
    } else {
      // On a terminal, say why there is no console (on a pipe or a file, that goes without saying).
      if (wantsConsole && process.stdout.isTTY === true && noConsole !== undefined)
        note(`no console: it needs a terminal, and ${noConsole}; progress lines instead`);
      note(
        `${opts.nodes} ${opts.profile} nodes, ${describeTopology(opts)}, ${opts.ratePerNodePerMin} presses/node/min, ${opts.lossPct}% loss${lossModeNote(run)}, ${opts.durationS} s + ${opts.settleS} s settle, broker ${run.brokerUrl}${nodesAtWords(run.nodesAt)}${opts.faultsSpec ? `, faults ${opts.faultsSpec}` : ""}`,
      );
      if (run.joined) {
        note(
          `joining the twins service ${run.joined.clientId} already on the broker (it controls the fleet; this run only watches it and pairs through retained configs)`,
        );
      }
      let previous: Progress | undefined;
      run.on("progress", (p) => {
        if (json) logger.info({ ...p }, "progress");
        else io.stderr(`${progressLine(p, run.sched.now(), previous)}\n`);
        previous = p;
      });
      run.on("log", (line, level) => {
        const at = Math.round((run.sched.now() - run.startedAt) / 1000);
        if (level === "error") logger.error({ at }, line);
        else logger.info({ at }, line);
      });
    }
    const report = await run.done.catch((e: unknown) => {
      // A split run's part that died leaves no report to write: say so, not only the death.
      if (!(e instanceof PartDeathError)) throw e;
      const none = raw.report !== undefined ? ` (${raw.report} is not written)` : "";
      io.stderr(
        `twinfleet sim: ${e.message}; no report${none}: a virtual run split over threads merges its report from every part's at the end, and the dead part's figures went with its thread\n`,
      );
      io.exit?.(1);
      return undefined;
    });
    if (report === undefined) return;
    // The summary first: a report that cannot be written after all (a full disk) loses only itself.
    // A report on standard output (`--report -`, `/dev/stdout`) has it to itself: the summary goes to stderr.
    (raw.report !== undefined && isStdout(raw.report) ? io.stderr : io.stdout)(summary(report));
    if (raw.report !== undefined) writeOutputFile("--report", raw.report, (p) => writeReport(p, report));
    reported = true;
    const failures = requirementFailures(report);
    if (raw.assert === true && failures.length > 0) {
      io.stderr(`twinfleet sim: requirements not met:\n${failures.map((f) => `  - ${f}\n`).join("")}`);
      io.exit?.(1);
    }
    // A thread that died ended the run: a failure of the run (1), not a cut the user asked for (130).
    if (report.threadDied !== undefined) {
      const kept = raw.report !== undefined ? `the report (${raw.report})` : "the summary above";
      io.stderr(
        `twinfleet sim: ${threadDeathLine(report.threadDied)}; ${kept} holds what was measured until then (threadDied, cutShort)\n`,
      );
      io.exit?.(1);
    } else if (report.cutShort) io.exit?.(CUT_SHORT_EXIT);
  } finally {
    // Ended with no report (a thread's death, a failure): the mark goes, as the run is over.
    if (mark !== undefined && !reported) rmSync(mark, { force: true });
    process.off("SIGINT", onSigint);
    for (const s of STOP_SIGNALS) process.off(s, onTerm);
    await web?.close();
  }
}

/**
 * A run split over worker threads, started: a start that throws (its threads could not be made) is
 * the run's failure, named as such (exit 1); bad input stays a usage error (exit 2).
 */
function startSplit(...args: Parameters<typeof VirtualSplitRun.start>): VirtualSplitRun {
  try {
    return VirtualSplitRun.start(...args);
  } catch (e) {
    if (e instanceof OptionError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot start the run over ${args[2].length} worker threads: ${why}`);
  }
}

/**
 * `--speed`: a positive number of virtual seconds per wall second (at most the API's SPEED_MAX), or
 * max; only with --clock virtual.
 */
function speedFlag(spec: string | undefined, clock: string | undefined): number | "max" | undefined {
  if (spec === undefined) return undefined;
  if (clock !== "virtual") throw new UsageError("--speed sets the pace of a --clock virtual run");
  const v = spec.toLowerCase();
  if (v === "max") return "max";
  // ×10 and x10 as the console and the page write a speed; the number itself in plain decimal.
  const digits = v.replace(/^[x×]/, "");
  const n = Number(digits);
  if (!isDecimal(digits) || !(n > 0 && n <= SPEED_MAX))
    throw new UsageError(
      `--speed: ${shown(spec)} is not a speed: a number of virtual seconds per second above 0 and at most ${SPEED_MAX} (1, 10, 100) or max${decimalHint(digits)}`,
    );
  return n;
}

/** The header's word on who loses the packets, in real-loss mode only. */
function lossModeNote(run: Pick<FleetRun, "kernelNet">): string {
  const k = run.kernelNet;
  if (k === undefined) return "";
  return ` (loss mode kernel: nftables in network namespace ${k.netns}, nodes at ${k.nodesAddr}; their TCP is the kernel's)`;
}

function describeTopology(o: ResolvedFleetOptions): string {
  if (typeof o.topology !== "string") return `pairing file ${o.topology.file}`;
  switch (o.topology) {
    case "random":
      return `random groups of ${o.groupSize} (${o.follows} each)`;
    // Mutual pairs within each group: the group size shows only when odd (its last node has no pair).
    case "pairs":
      return o.groupSize % 2 === 0
        ? "pairs"
        : `pairs in groups of ${o.groupSize} (the last of each unpaired)`;
    case "none":
      return "no pairing";
    case "ring":
    case "chain":
    case "star":
      return `${o.topology} of ${o.groupSize}`;
    default:
      return assertNever(o.topology);
  }
}
