/**
 * `twinfleet monitor`: the terminal console over a live fleet (`--broker URL`, through the twins
 * service) or over the built-in demo fleet (`--demo`, no broker needed).
 */
import type { Command } from "commander";
import { z } from "zod";
import { runConsole } from "../../console/index.js";
import { RealScheduler } from "../../node/scheduler.js";
import { startTwins, wallScheduler } from "../../twins/index.js";
import { DemoSource } from "../../view/demo-source.js";
import { twinsFigures } from "../../view/figures.js";
import type { ConsoleSource } from "../../view/source.js";
import { TwinsSource } from "../../view/twins-source.js";
import { addLoginOptions, type ConnectionFlags, resolveConnection } from "../connection.js";
import { UsageError } from "../errors.js";
import {
  addHttpOptions,
  type HttpFlags,
  type HttpOptions,
  resolveHttpOptions,
  serveWeb,
  untilSignal,
} from "../http.js";
import { commandLogger } from "../log.js";
import type { CliIO, RegisterCommand } from "../main.js";

interface MonitorFlags extends ConnectionFlags, HttpFlags {
  readonly demo?: boolean;
  readonly prefix: string;
  readonly nodes: string;
  readonly seed: string;
  readonly fps: string;
  readonly ascii?: boolean;
}

const int = (flag: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${flag} must be a number` })
    .int(`${flag} must be an integer`)
    .min(min, `${flag} must be at least ${min}`)
    .max(max, `${flag} must be at most ${max}`);

const Flags = z
  .object({
    broker: z.string().optional(),
    demo: z.boolean().optional(),
    nodes: int("--nodes", 1, 100_000),
    fps: int("--fps", 1, 30),
  })
  .refine((f) => (f.broker === undefined) !== (f.demo !== true), {
    error: "give either --broker <url> or --demo",
  });

type WebDeps = Omit<Parameters<typeof serveWeb>[3], "logger">;

export const registerMonitorCommand: RegisterCommand = (program: Command, io: CliIO) => {
  const cmd = program
    .command("monitor")
    .description("watch and drive a fleet in a terminal console (fleet view, convergence, controls)")
    .option("--broker <url>", "watch the live fleet on this broker, e.g. mqtt://localhost:1883")
    .option("--demo", "watch the built-in demo fleet instead (no broker needed)")
    .option("--prefix <prefix>", "topic prefix of the fleet", "tf")
    .option("--nodes <n>", "demo fleet size", "400")
    .option("--seed <seed>", "demo fleet seed", "twinfleet")
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

With --http and no terminal (a service, a container), monitor serves the web page until Ctrl-C or
SIGTERM instead of opening the console.

Keys: ? help, arrows move, Enter node detail, p press, +/- packet loss, q quit (docs/console.md).`,
    );
  addHttpOptions(addLoginOptions(cmd)).action(async (flags: MonitorFlags) => {
    const parsed = Flags.safeParse(flags);
    if (!parsed.success)
      throw new UsageError(`monitor: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    const { nodes, fps } = parsed.data;
    const ascii = flags.ascii === true ? true : undefined;
    const http = resolveHttpOptions(flags, io.env ?? process.env);
    const tty = process.stdout.isTTY === true;
    /** The console in a terminal; without one, with --http, the web page alone until a signal. */
    const watch = async (source: ConsoleSource, web: HttpOptions | undefined, deps: WebDeps) => {
      const server = web
        ? await serveWeb(source, "monitor", web, {
            ...deps,
            logger: commandLogger(program, io),
            secret: io.secret,
          })
        : undefined;
      try {
        if (tty || !server) await runConsole(source, { fps, ascii });
        else await untilSignal();
      } finally {
        await server?.close();
      }
    };
    if (flags.demo) {
      const scheduler = new RealScheduler();
      const source = new DemoSource({ nodes, seed: flags.seed, scheduler }).run();
      try {
        await watch(source, http, { scheduler });
      } finally {
        source.stop();
      }
    } else if (flags.broker !== undefined) {
      const c = resolveConnection({ ...flags, broker: flags.broker }, io.env ?? process.env, (msg) =>
        io.stderr(`twinfleet monitor: warning: ${msg}\n`),
      );
      io.secret?.(c.login.password);
      const twins = await startTwins({ url: c.url, ...c.login, prefix: flags.prefix });
      const source = new TwinsSource(twins, `${c.url} prefix ${flags.prefix}`);
      try {
        await watch(source, http, { scheduler: wallScheduler, figures: twinsFigures(twins) });
      } finally {
        source.close();
        await twins.close();
      }
    }
    io.stderr(`twinfleet monitor: ${tty || !http ? "console closed" : "stopped"}\n`);
  });
};
