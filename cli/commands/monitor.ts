/**
 * `twinfleet monitor`: the terminal console over a live fleet (`--broker URL`, through the twins
 * service) or over the built-in demo fleet (`--demo`, no broker needed). Its options and help; what
 * it runs is loaded when it runs (cli/commands/monitor-run.ts).
 */
import type { Command } from "commander";
import { addHttpOptions } from "../http-options.js";
import { addLoginOptions } from "../login-options.js";
import type { CliIO, RegisterCommand } from "../main.js";
import type { MonitorFlags } from "./monitor-run.js";

export const registerMonitorCommand: RegisterCommand = (program: Command, io: CliIO) => {
  const cmd = program
    .command("monitor")
    .description("watch and drive a fleet in a terminal console (fleet view, convergence, controls)")
    .option("--broker <url>", "watch the live fleet on this broker, e.g. mqtt://localhost:1883")
    .option("--demo", "watch the built-in demo fleet instead (no broker needed)")
    .option("--prefix <prefix>", 'with --broker: topic prefix of the fleet (default: "tf")')
    .option("--nodes <n>", 'with --demo: demo fleet size (default: "400")')
    .option("--seed <seed>", 'with --demo: demo fleet seed (default: "twinfleet")')
    .option(
      "--via <url>",
      "with --broker: the console's last 48 h (key m) from this twins service's web API, http://host:port",
    )
    .option(
      "--via-token-file <file>",
      "with --via: read that service's bearer token from the first line of <file>",
    )
    .option("--fps <n>", "redraws per second at most", "8")
    .option("--ascii", "plain ASCII cells (default: Unicode when the locale is UTF-8)")
    .addHelpText(
      "after",
      `
Examples:
  twinfleet monitor --broker mqtt://localhost:1883
  twinfleet monitor --broker mqtts://fleet.example:8883 --prefix lab --username ctl --password-file ctl.pw --ca ca.pem
  twinfleet monitor --demo --nodes 2000
  twinfleet monitor --broker mqtt://localhost:1883 --http 8080    the console, and the web page on port 8080
  twinfleet monitor --broker mqtt://localhost:1883 --via http://127.0.0.1:8080 --via-token-file tok
                                        the last 48 h (m) of the twins service serving that page

With --http and no terminal (a service, a container), monitor serves the web page until Ctrl-C or
SIGTERM instead of opening the console; with neither, it refuses.

Keys: ? help, arrows move, Enter node detail, p press, +/- packet loss, q quit (docs/console.md).`,
    );
  addHttpOptions(addLoginOptions(cmd)).action(async (flags: MonitorFlags) => {
    const { runMonitor } = await import("./monitor-run.js");
    await runMonitor(flags, program, io);
  });
};
