/**
 * `twinfleet sim --shard K/N --shard-report FILE`: runs one shard of a fleet split over processes
 * or machines (fleet/shard-run.ts) headless, with progress lines on stderr, and writes its shard
 * report for `twinfleet report merge`, then the broker's outages it saw and its own stalls. Ctrl-C ends the presses and
 * the settle at once; the report is still written, marked cut short (exit code 130). During its
 * start (its watch client's connect, its clock probe, --fresh's clearing, its watch of the fleet, the
 * wait for its ids in use to go offline, its claim, its nodes' configs: fleet/shard-start.ts), it ends
 * the shard there: nothing ran, no report (exit code 130). From its start its --shard-report path holds
 * the mark of a run not ended (fleet/report-unfinished.ts), which `report merge` refuses, naming it: a
 * shard killed with -9 left an earlier run's report there, merged as this run's.
 */
import { rmSync } from "node:fs";
import { FleetStartStoppedError } from "../../fleet/ids-in-use.js";
import type { FleetOptions } from "../../fleet/options.js";
import { writeUnfinishedMark } from "../../fleet/report-unfinished.js";
import { parseShardSpec } from "../../fleet/shard-plan.js";
import { writeShardFile } from "../../fleet/shard-report.js";
import { ShardRun } from "../../fleet/shard-run.js";
import { threadDeathLine } from "../../fleet/thread-death.js";
import { RealScheduler } from "../../node/scheduler.js";
import { isStdout } from "../../node/whole-file.js";
import type { Env } from "../connection.js";
import { takeStops, whileStarting } from "../early-hang-ups.js";
import { UsageError } from "../errors.js";
import { withFlagNamesSync } from "../fleet-flags.js";
import type { CliIO } from "../main.js";
import { checkOutputFile, writeOutputFile } from "../output-path.js";
import { outageLines, stallLines } from "../sim-summary.js";
import { startLines } from "../start-lines.js";
import { STOP_SIGNALS } from "./sim.js";

export interface ShardFlags {
  readonly shard?: string;
  readonly shardReport?: string;
}

export async function runSimShard(
  raw: ShardFlags & { readonly report?: string; readonly http?: unknown },
  options: FleetOptions,
  io: CliIO,
  env: Env,
  cutShortExit: number,
): Promise<void> {
  if (raw.shard === undefined) throw new UsageError("--shard-report needs --shard K/N");
  const spec = parseShardSpec(raw.shard, env);
  if (raw.shardReport === undefined || raw.shardReport.trim() === "")
    throw new UsageError(
      "--shard needs --shard-report FILE: the shard's report is what `twinfleet report merge` joins",
    );
  checkOutputFile("--shard-report", raw.shardReport);
  if (raw.report !== undefined)
    throw new UsageError(
      "--report cannot be used with --shard: the shard writes --shard-report, and `twinfleet report merge --out FILE` the fleet's report",
    );
  if (raw.http !== undefined) throw new UsageError("--http cannot be used with --shard");
  const note = (line: string) => io.stderr(`twinfleet sim: ${line}\n`);
  // Until its nodes boot it tells its start's step every progress interval (it used to print nothing,
  // for ever on a broker that cut its claim's connection).
  // Its options checked first: refused once the lines had begun, they went on every interval after
  // the error, and the process never exited.
  const { progressEveryS } = withFlagNamesSync(() => ShardRun.check(options, spec));
  const sched = new RealScheduler();
  const told = startLines(sched, progressEveryS * 1000, note);
  // Ctrl-C, and SIGTERM or SIGHUP (how systemd and Kubernetes stop a job): the shard's report, cut short.
  const onSigint = (signal: NodeJS.Signals) => {
    if (run.stop(signal))
      io.stderr(`twinfleet sim: ${signal}: cut short: writing the shard report with what is known\n`);
  };
  const { run, done } = withFlagNamesSync(() =>
    ShardRun.run(options, spec, sched, {
      note,
      step: told.step,
      // Its nodes start: from now on its own handlers take the stops (those heard so far were acted on).
      started: () => {
        told.end();
        takeStops();
        process.on("SIGINT", onSigint);
        for (const s of STOP_SIGNALS) process.on(s, onSigint);
      },
    }),
  );
  // Its options taken (ShardRun.run refuses bad ones at once, the file left as it was): the report's
  // path marked while it runs (fleet/report-unfinished.ts).
  const mark = isStdout(raw.shardReport) ? undefined : raw.shardReport;
  if (mark !== undefined) writeOutputFile("--shard-report", mark, (p) => writeUnfinishedMark(p, Date.now()));
  let reported = false;
  // One during its start (fleet/shard-start.ts) ends it there: nothing ran, no report; it is answered at
  // once with the step it ends, and a second ends the process at once (cli/early-hang-ups.ts).
  let stopTold = false;
  whileStarting(
    (signal) => {
      if (run.stop(signal)) note(`${signal}: cut short: writing the shard report with what is known`);
      else if (!stopTold) note(told.stopLine(signal));
      stopTold = true;
    },
    { name: "twinfleet sim", doing: () => told.doing },
  );
  try {
    const file = await done.finally(told.end).catch((e: unknown) => {
      if (!(e instanceof FleetStartStoppedError)) throw e;
      io.stderr(`twinfleet sim: ${String(e.reason)}: ${e.message}\n`);
      return undefined;
    });
    if (file === undefined) {
      io.exit?.(cutShortExit);
      return;
    }
    writeOutputFile("--shard-report", raw.shardReport, (p) => writeShardFile(p, file));
    reported = true;
    io.stderr(
      `twinfleet sim: shard ${spec.index}/${spec.count}: ${file.nodes.length} nodes, ${file.counts.presses} presses, ${file.counts.applies} states applied, registered ${Object.keys(file.registrationMs).length}/${file.nodes.length}; report in ${raw.shardReport}\n`,
    );
    const outages = file.brokerOutages ?? [];
    if (outages.length > 0)
      io.stderr(
        `twinfleet sim: shard ${spec.index}/${spec.count}: the broker was lost (this shard's nodes and in-shard pairs; \`twinfleet report merge\` tells the fleet's):${outageLines(outages)}\n`,
      );
    if (file.stalls !== undefined && file.stalls.length > 0)
      io.stderr(
        `twinfleet sim: shard ${spec.index}/${spec.count}: its own process did not run for a while (this shard's nodes and in-shard pairs; \`twinfleet report merge\` tells the fleet's):${stallLines(file.stalls, "the shard")}\n`,
      );
    // A node thread that died: a failure of the shard (exit 1), not a cut asked for.
    if (file.threadDied !== undefined) {
      io.stderr(
        `twinfleet sim: shard ${spec.index}/${spec.count}: ${threadDeathLine(file.threadDied)}; the shard report (${raw.shardReport}) holds what was measured until then (threadDied, cutShort)\n`,
      );
      io.exit?.(1);
    } else if (file.cutShort) io.exit?.(cutShortExit);
  } finally {
    // Ended with no report (stopped while starting, a failure): the mark goes, as the shard is over.
    if (mark !== undefined && !reported) rmSync(mark, { force: true });
    process.off("SIGINT", onSigint);
    for (const s of STOP_SIGNALS) process.off(s, onSigint);
  }
}
