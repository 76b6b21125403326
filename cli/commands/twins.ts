/**
 * The twins commands: `twinfleet nodes`, `set`, `pair`, `unpair`, `forget` (one-shot: connect, read the
 * fleet's retained state, act, confirm, exit) and `twinfleet twins` (the twins service, logging
 * events until SIGINT). All of them are thin over twins/ (startTwins) and log in with the shared
 * connection flags (cli/connection.ts). Their options and help; what they run is loaded when they
 * run (cli/commands/twins-run.ts).
 */
import type { Command } from "commander";
import { addHttpOptions } from "../http-options.js";
import { addLoginOptions } from "../login-options.js";
import type { CliIO, RegisterCommand } from "../main.js";
import type { ConnFlags, ForgetFlags, SetFlags } from "./twins-run.js";
import type { TwinsServiceFlags } from "./twins-service-run.js";

export const registerTwinsCommands: RegisterCommand = (program: Command, io: CliIO) => {
  // The one-shot commands wait `--wait` ms for the fleet's state; the service (no default) has no
  // such wait, and no --wait flag that would be taken and ignored.
  const conn = (cmd: Command, waitDefault?: string) => {
    cmd
      .requiredOption("--broker <url>", "broker URL, e.g. mqtt://localhost:1883 (mqtts://, ws://, wss://)")
      .option("--prefix <prefix>", "topic prefix of the fleet", "tf");
    if (waitDefault !== undefined)
      cmd.option("--wait <ms>", "how long to collect the fleet's state before acting", waitDefault);
    return addLoginOptions(cmd);
  };
  const run = () => import("./twins-run.js");

  conn(program.command("nodes").description("list every node on the broker as JSON"), "1500")
    .addHelpText("after", "\nExample:\n  twinfleet nodes --broker mqtt://localhost:1883 --wait 2000")
    .action(async (flags: ConnFlags) => {
      await (await run()).runNodes(flags, io);
    });

  const set = program.command("set").argument("<node>").argument("<value>", "on or off");
  set.option("--broker <url>", "broker URL, e.g. mqtt://localhost:1883 (mqtts://, ws://, wss://)");
  set.option("--prefix <prefix>", "topic prefix of the fleet", "tf");
  set.option("--wait <ms>", "how long to collect the fleet's state before acting", "1000");
  addLoginOptions(set)
    .option(
      "--via <url>",
      "set it through the running twins service at this web address (its --http, http://host:port), which keeps a set for an offline node until it returns",
    )
    .option("--http-token <token>", "with --via: the service's bearer token (also TWINFLEET_HTTP_TOKEN)")
    .option("--http-token-file <file>", "with --via: read the bearer token from the first line of <file>")
    .description("set a node's LED state (S1 with the highest counter seen)")
    .addHelpText(
      "after",
      "\nExamples:\n  twinfleet set lamp-1 on --broker mqtt://localhost:1883\n  twinfleet set lamp-1 on --via http://127.0.0.1:8080 --http-token-file token   # kept for an offline node",
    )
    .action(async (node: string, value: string, flags: SetFlags) => {
      await (await run()).runSet(node, value, flags, io);
    });

  for (const [name, pairing] of [
    ["pair", true],
    ["unpair", false],
  ] as const) {
    conn(program.command(name).argument("<follower>").argument("<source>"), "1000")
      .description(pairing ? "make <follower> follow <source>" : "make <follower> stop following <source>")
      .addHelpText("after", `\nExample:\n  twinfleet ${name} lamp-1 switch-7 --broker mqtt://localhost:1883`)
      .action(async (follower: string, source: string, flags: ConnFlags) => {
        await (await run()).runPairing(pairing, follower, source, flags, io);
      });
  }

  conn(program.command("forget").argument("<node...>"), "1500")
    .description(
      "retire nodes for good: unpair their followers, clear their retained status, config and report, and tell the running twins service to forget them (several in one connection; exit 1 names any not forgotten)",
    )
    .option(
      "--force",
      "forget it even while it is shown online (a board gone that only its retained status says is online)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  twinfleet forget lamp-3 --broker mqtt://localhost:1883\n  twinfleet forget lamp-3 lamp-4 switch-9 --broker mqtt://localhost:1883",
    )
    .action(async (nodes: string[], flags: ForgetFlags) => {
      await (await import("./forget-run.js")).runForget(nodes, flags, io);
    });

  addHttpOptions(conn(program.command("twins")))
    .description("run the twins service: track every node, keep pairings, log events until Ctrl-C")
    .option("--data <dir>", "keep desired state and pairings in <dir>/twins.json (default: in memory)")
    // The default is the service's (twins/options.ts DEFAULT_MAX_NODES; cli/test/twins-cli.test.ts
    // holds the help to it): twins/ is not loaded to declare the commands.
    .option(
      "--max-nodes <n>",
      "the most nodes tracked; messages naming one more are dropped as bad input, ~1 KB a node (default 200000)",
    )
    .option(
      "--forget-after <span>",
      "retire a node not seen for longer than <span> (12h, 30d, 2w; at least 1h) as `twinfleet forget` does (default: never)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  twinfleet twins --broker mqtt://localhost:1883 --data ./twins-data\n  twinfleet twins --broker mqtt://localhost:1883 --http 8080      the web page and API (docs/web.md)",
    )
    .action(async (flags: TwinsServiceFlags) => {
      await (await import("./twins-service-run.js")).runTwinsService(flags, program, io);
    });
};
