/**
 * `twinfleet sim`: runs a simulated fleet on the embedded broker (or any broker) with the twins
 * service, shows the console in a terminal or progress lines otherwise, and ends with a summary, an
 * optional JSON report and, with --assert, an exit code for the paper's requirements. The first q
 * (console) or Ctrl-C stops the presses and the run settles, saying so with a countdown; the second
 * ends it at once with a report marked cut short and exit code 130.
 */
import type { Command } from "commander";
import { FAULT_PRESETS } from "../../fleet/faults/schedule.js";
import {
  DEFAULTS,
  type FleetOptions,
  type ResolvedFleetOptions,
  resolveFleetOptions,
} from "../../fleet/options.js";
import { requirementFailures, writeReport } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { SPEED_MAX } from "../../fleet/virtual-clock.js";
import { VirtualSplitRun } from "../../fleet/virtual-split.js";
import { assertNever } from "../../protocol/index.js";
import { type BrokerLogin, splitBrokerUrl } from "../../twins/index.js";
import { addLoginOptions, type Env, resolvePassword } from "../connection.js";
import { UsageError } from "../errors.js";
import {
  type FleetFlagValues,
  fleetOptionsFromFlags,
  withFlagNames,
  withFlagNamesSync,
} from "../fleet-flags.js";
import { addHttpOptions, type HttpFlags, resolveHttpOptions, serveSim } from "../http.js";
import { commandLogger, type LogSettings } from "../log.js";
import type { CliIO, RegisterCommand } from "../main.js";
import { checkOutputFile } from "../output-path.js";
import { progressLine, summary } from "../sim-summary.js";
import { runSimShard, type ShardFlags } from "./sim-shard.js";
import { chooseVirtualSplit, oneThreadHeap } from "./sim-split.js";

/** Flags of the command itself, not of the fleet. */
interface SimOwnFlags {
  readonly headless?: boolean;
  readonly report?: string;
  readonly assert?: boolean;
  readonly speed?: string;
}

interface SimLoginFlags {
  readonly broker?: string;
  readonly username?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly nodePassword?: string;
  readonly nodePasswordFile?: string;
}

export const registerSimCommand: RegisterCommand = (program: Command, io: CliIO) => {
  const cmd = program
    .command("sim")
    .description("simulate a fleet of nodes and measure sync latency, losses, registration and CPU")
    .option("--nodes <n>", `number of simulated nodes (default ${DEFAULTS.nodes})`)
    .option(
      "--profile <name|file>",
      `device profile (default ${DEFAULTS.profile}; also due-w5100, ideal, linux-client, or a .json)`,
    )
    .option(
      "--topology <kind|file>",
      "ring, pairs, star, chain, random, none, or a pairing file .json (docs/pairing.md; default ring)",
    )
    .option(
      "--group-size <k>",
      `nodes per ring / chain / star / random group (default ${DEFAULTS.groupSize})`,
    )
    .option("--follows <m>", `sources per node for --topology random (default ${DEFAULTS.follows})`)
    .option("--rate <r>", `button presses per node per minute (default ${DEFAULTS.ratePerNodePerMin})`)
    .option("--loss <pct>", "packet loss in percent, each direction (default 0)")
    .option(
      "--loss-mode <model|kernel>",
      "model (default): the link model loses; kernel: real kernel loss, the broker in a network namespace with nftables dropping the nodes' packets (root, ip, nft)",
    )
    .option(
      "--ge <pGB,pBG,lossBad>",
      "bursty Gilbert-Elliott loss: P(good->bad), P(bad->good), loss when bad",
    )
    .option("--seed <s>", `seed of every random choice (default ${DEFAULTS.seed})`)
    .option(
      "--duration <s>",
      `seconds of presses (default ${DEFAULTS.durationS}; with the console: until you quit)`,
    )
    .option(
      "--settle <s>",
      `seconds at 0 % loss after the presses stop, before checking divergence (default ${DEFAULTS.settleS})`,
    )
    .option("--headless", "no console: progress lines and a summary, even in a terminal")
    .option("--report <file>", "write the JSON report here")
    .option("--assert", "exit 1 unless sync p99 < 1 s, all registered < 30 s, nothing lost or diverged")
    .option("--broker <url>", "use this broker (mqtt://host:port) instead of starting one")
    .option(
      "--broker-process",
      "start the broker as its own process (twinfleet broker), as deployed; a broker-restart fault SIGKILLs it",
    )
    .option("--broker-data <dir>", "the started broker keeps its store here (LevelDB), across restarts")
    .option("--twins-data <dir>", "the run's twins service keeps its store here (twins.json)")
    .option("--fresh", "with --broker: clear the fleet's retained state there before starting")
    .option(
      "--faults <file|presets>",
      `inject faults: a schedule .json, or presets (${Object.keys(FAULT_PRESETS).join(", ")}), comma-separated, each @S to start S s into the presses`,
    )
    .option(
      "--workers <n>",
      "worker threads for the nodes (default: cores, at most 4; 0: in the broker's thread); with --clock virtual, headless: threads the fleet's groups are split over, by default 2,500 nodes a thread at least (0: one thread)",
    )
    .option("--prefix <p>", `topic prefix (default ${DEFAULTS.prefix})`)
    .option("--progress-every <s>", `seconds between progress lines (default ${DEFAULTS.progressEveryS})`)
    // --- sharded runs (docs/shards.md) ---
    .option(
      "--shard <K/N>",
      "run shard K (1..N) of N of the fleet, or env/N: K from $JOB_COMPLETION_INDEX + 1; needs --broker",
    )
    .option(
      "--shard-report <file>",
      "with --shard: write the shard's report here, for `twinfleet report merge`",
    )
    // --- end sharded runs ---
    .option(
      "--clock <real|virtual>",
      "real (default): wall time, real sockets; virtual: in memory, as fast as the CPU allows (the console or the --http page paces it), same report for the same seed (no --broker)",
    )
    .option(
      "--speed <1|10|100|max>",
      "with --clock virtual: the starting pace, virtual seconds per wall second or max (default: 1 when watched in the console or over --http, else max)",
    )
    .option(
      "--no-twins",
      "with --clock virtual: no twins service; registration is read from the broker's traffic (faster for huge fleets)",
    )
    .addHelpText(
      "after",
      `
Examples:
  twinfleet sim                                        300 uno-w5100 nodes in rings of 8, console in a terminal
  twinfleet sim --nodes 1000 --duration 60 --headless --report run.json --assert
  twinfleet sim --loss 15 --rate 6 --topology chain --group-size 5
  twinfleet sim --loss 10 --loss-mode kernel --profile ideal --topology pairs --nodes 50 --headless
                                                       the same fleet through real kernel TCP loss (root; docs/device-model.md)
  twinfleet sim --profile ideal --topology pairs --broker mqtt://127.0.0.1:1883
  twinfleet sim --nodes 200 --rate 6 --faults broker-restart --broker-process --broker-data ./bd --headless
  twinfleet sim --faults power-outage@10,partition@30 --duration 120 --report faults.json --assert
  twinfleet sim --faults my-bad-day.json                 a schedule file (see docs/faults.md)
  twinfleet sim --clock virtual                        the console on virtual time: P pauses, < > change speed
  twinfleet sim --clock virtual --headless --http 8080
                                                       the web page on virtual time at ×1: pause and speed in its header
  twinfleet sim --clock virtual --nodes 20000 --duration 3600 --loss 10 --no-twins --report hour.json
                                                       an hour of a large fleet on virtual time (docs/cli.md)
  twinfleet sim --shard 2/4 --broker mqtt://lab:1883 --nodes 10000 --shard-report s2.json
                                                       shard 2 of 4 of a fleet on a shared broker (docs/shards.md)
  twinfleet sim --broker mqtt://lab:1883 --username twins --password-file twins.pw --node-password-file nodes.pw

Quitting: the first q (console) or Ctrl-C stops the presses, and the run settles for --settle
seconds (longer after faults, while the fleet recovers) with a countdown; a second q or Ctrl-C ends
it at once: the summary and report are marked cut short and the exit code is ${CUT_SHORT_EXIT}.`,
    );
  addHttpOptions(addLoginOptions(cmd, { tls: false }))
    .option(
      "--node-password <password>",
      "with --broker: each node logs in as its node id with this password",
    )
    .option("--node-password-file <file>", "read the nodes' password from the first line of <file>")
    .action(async (raw: FleetFlagValues & SimOwnFlags & SimLoginFlags & HttpFlags & ShardFlags) => {
      const login = simLogin(raw, io.env ?? process.env);
      const http = resolveHttpOptions(raw, io.env ?? process.env);
      io.secret?.(login.login.password);
      io.secret?.(login.nodePassword);
      if (raw.report !== undefined) checkOutputFile("--report", raw.report);
      const speed = speedFlag(raw.speed, raw.clock);
      if (http !== undefined && raw.twins === false)
        throw new UsageError("--http shows the twins service's view of the fleet: leave out --no-twins");
      // The console shows the twins' view (on virtual time it sets the pace): without twins, progress
      // lines; a shard runs headless (its report is one part of the fleet's).
      const interactive =
        raw.headless !== true &&
        raw.shard === undefined &&
        raw.twins !== false &&
        process.stdout.isTTY === true;
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
      // Log lines would tear the console's screen: it shows the run's events itself.
      const logger = commandLogger(interactive ? { opts: () => ({ logLevel: "silent" }) } : program, io);
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
      const run = split
        ? VirtualSplitRun.start(split.opts, options, split.ranges, inner)
        : await withFlagNames(() => FleetRun.start(options, inner));
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
      try {
        if (interactive && fleet) {
          const { runSimConsole } = await import("../../console/sim-console.js");
          await runSimConsole(fleet, startPace);
          if (run.cutShort) io.stderr("twinfleet sim: cut short: writing the report with what is known\n");
        } else {
          note(
            `${opts.nodes} ${opts.profile} nodes, ${describeTopology(opts)}, ${opts.ratePerNodePerMin} presses/node/min, ${opts.lossPct}% loss${lossModeNote(run)}, ${opts.durationS} s + ${opts.settleS} s settle, broker ${run.brokerUrl}${opts.faultsSpec ? `, faults ${opts.faultsSpec}` : ""}`,
          );
          if (run.joined) {
            note(
              `joining the twins service ${run.joined.clientId} already on the broker (it controls the fleet; this run only watches it and pairs through retained configs)`,
            );
          }
          run.on("progress", (p) =>
            json ? logger.info({ ...p }, "progress") : io.stderr(`${progressLine(p, run.sched.now())}\n`),
          );
          run.on("log", (line, level) => {
            const at = Math.round((run.sched.now() - run.startedAt) / 1000);
            if (level === "error") logger.error({ at }, line);
            else logger.info({ at }, line);
          });
        }
        const report = await run.done;
        if (raw.report !== undefined) writeReport(raw.report, report);
        io.stdout(summary(report));
        const failures = requirementFailures(report);
        if (raw.assert === true && failures.length > 0) {
          io.stderr(`twinfleet sim: requirements not met:\n${failures.map((f) => `  - ${f}\n`).join("")}`);
          process.exitCode = 1;
        }
        if (report.cutShort) process.exitCode = CUT_SHORT_EXIT;
      } finally {
        process.off("SIGINT", onSigint);
        await web?.close();
      }
    });
};

/**
 * `--speed`: a positive number of virtual seconds per wall second (at most the API's SPEED_MAX), or
 * max; only with --clock virtual.
 */
function speedFlag(spec: string | undefined, clock: string | undefined): number | "max" | undefined {
  if (spec === undefined) return undefined;
  if (clock !== "virtual") throw new UsageError("--speed sets the pace of a --clock virtual run");
  const v = spec.trim().toLowerCase();
  if (v === "max") return "max";
  const n = Number(v.replace(/^[x×]/, ""));
  if (v === "" || !(n > 0 && n <= SPEED_MAX))
    throw new UsageError(
      `--speed: "${spec}" is not a speed: a number of virtual seconds per second above 0 and at most ${SPEED_MAX} (1, 10, 100) or max`,
    );
  return n;
}

/** The header's word on who loses the packets, in real-loss mode only. */
function lossModeNote(run: Pick<FleetRun, "kernelNet">): string {
  const k = run.kernelNet;
  if (k === undefined) return "";
  return ` (loss mode kernel: nftables in network namespace ${k.netns}, nodes at ${k.nodesAddr}; their TCP is the kernel's)`;
}

/** A run ended by a second q / Ctrl-C, as a shell reports a command ended by Ctrl-C (128 + SIGINT). */
export const CUT_SHORT_EXIT = 130;

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

/** The run's logins: the twins service and tools (control role), and the nodes (node role). */
function simLogin(raw: SimLoginFlags, env: Env): { url?: string; login: BrokerLogin; nodePassword?: string } {
  const nodePassword = resolvePassword(
    { password: raw.nodePassword, passwordFile: raw.nodePasswordFile },
    env,
    {
      flag: "--node-password",
      file: "--node-password-file",
      env: "TWINFLEET_NODE_PASSWORD",
    },
  );
  if (raw.broker === undefined) {
    const given = [
      ["--username", raw.username],
      ["--password", raw.password],
      ["--password-file", raw.passwordFile],
      ["--node-password", raw.nodePassword],
      ["--node-password-file", raw.nodePasswordFile],
    ].find(([, v]) => v !== undefined)?.[0];
    if (given !== undefined) {
      throw new UsageError(`${given} is for a --broker with credentials; the run's own broker has none`);
    }
    return { login: {} };
  }
  const fromUrl = splitBrokerUrl(raw.broker);
  const username = raw.username ?? env.TWINFLEET_USERNAME ?? fromUrl.username;
  const password = resolvePassword(raw, env) ?? fromUrl.password;
  return {
    url: fromUrl.url,
    login: {
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    },
    ...(nodePassword !== undefined ? { nodePassword } : {}),
  };
}
