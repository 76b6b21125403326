/**
 * `twinfleet sim`: runs a simulated fleet on the embedded broker (or any broker) with the twins
 * service, shows the console in a terminal or progress lines otherwise, and ends with a summary, an
 * optional JSON report and, with --assert, an exit code for the paper's requirements. The first q
 * (console) or Ctrl-C stops the presses and the run settles, saying so with a countdown; the second
 * ends it at once with a report marked cut short and exit code 130. Its options and help; what it
 * runs is loaded when it runs (cli/commands/sim-run.ts).
 */
import type { Command } from "commander";
import { DEFAULTS } from "../../fleet/defaults.js";
import { FAULT_PRESETS } from "../../fleet/faults/presets.js";
import { addHttpOptions } from "../http-options.js";
import { addLoginOptions, addNodeLoginOptions } from "../login-options.js";
import type { CliIO, RegisterCommand } from "../main.js";
import type { SimFlags } from "./sim-run.js";

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
    .option(
      "--id-base <b>",
      `the nodes' ids are <b>-0000, <b>-0001… (default ${DEFAULTS.idBase}); another base: other boards on the same broker`,
    )
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
  addHttpOptions(addNodeLoginOptions(addLoginOptions(cmd, { tls: false }))).action(async (raw: SimFlags) => {
    const { runSim } = await import("./sim-run.js");
    await runSim(raw, program, io);
  });
};

/** A run ended by a second q / Ctrl-C, as a shell reports a command ended by Ctrl-C (128 + SIGINT). */
export const CUT_SHORT_EXIT = 130;

/** Signals that end a run at once, as a second Ctrl-C does: how systemd and Kubernetes stop a job, a closed terminal. */
export const STOP_SIGNALS = ["SIGTERM", "SIGHUP"] as const;
