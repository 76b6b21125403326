/**
 * What `twinfleet monitor` runs (declared in cli/commands/monitor.ts, which loads this module only
 * when it runs): its flags checked, then the console (or, with --http and no terminal, the web page
 * alone) over the demo fleet or over a live fleet through the twins service.
 */
import { openConsole, whyNoConsole } from "../../console/index.js";
import { RealScheduler } from "../../node/scheduler.js";
import { startTwins, wallScheduler } from "../../twins/index.js";
import { DemoSource } from "../../view/demo-source.js";
import { twinsFigures } from "../../view/figures.js";
import { RemoteMinutes } from "../../view/minutes-feed.js";
import type { ConsoleSource } from "../../view/source.js";
import { TwinsSource } from "../../view/twins-source.js";
import { prefixFlag, resolveConnection, resolvePassword, wholeFlagIn } from "../connection.js";
import { takeStops } from "../early-hang-ups.js";
import { UsageError } from "../errors.js";
import {
  checkHttpAddress,
  type HttpOptions,
  resolveHttpOptions,
  serveWeb,
  tokenShown,
  untilSignalOr,
} from "../http.js";
import type { HttpFlags } from "../http-options.js";
import { commandLogger } from "../log.js";
import type { ConnectionFlags } from "../login-options.js";
import type { CliIO } from "../main.js";
import { viaOrigin } from "./set-via.js";
import { CUT_SHORT_EXIT, STOP_SIGNALS } from "./sim.js";

export interface MonitorFlags extends ConnectionFlags, HttpFlags {
  readonly demo?: boolean;
  readonly prefix?: string;
  readonly nodes?: string;
  readonly seed?: string;
  readonly fps: string;
  readonly ascii?: boolean;
  /** A twins service's web address: the console's last 48 h from its API. */
  readonly via?: string;
  readonly viaTokenFile?: string;
}

/** The login flags, which only a --broker can use. */
const LOGIN_FLAGS = [
  ["--username", "username"],
  ["--password", "password"],
  ["--password-file", "passwordFile"],
  ["--ca", "ca"],
  ["--cert", "cert"],
  ["--key", "key"],
  ["--insecure", "insecure"],
] as const;

/** A whole number from `min` to `max`, or a usage error naming the flag and value. */
const wholeIn = (flag: string, raw: string, min: number, max: number) =>
  wholeFlagIn(flag, raw, min, max, `a whole number from ${min} to ${max}`);

type WebDeps = Omit<Parameters<typeof serveWeb>[3], "logger">;

export async function runMonitor(
  flags: MonitorFlags,
  program: { opts(): Record<string, unknown> },
  io: CliIO,
): Promise<void> {
  const nodes = wholeIn("--nodes", flags.nodes ?? "400", 1, 100_000);
  const fps = wholeIn("--fps", flags.fps, 1, 30);
  // `--via` alone: the console's fleet comes from the broker, and a twins service's API names none.
  if (flags.via !== undefined && flags.broker === undefined && flags.demo !== true)
    throw new UsageError(
      `--via gives the console only its last 48 h (key m): the fleet it shows comes from the broker, through the monitor's own connection, and a twins service's address does not say which broker that is: give --broker mqtt://HOST:PORT too (the broker that service uses), or open ${viaOrigin(flags.via)}/ in a browser for that service's own view of the fleet`,
    );
  if ((flags.broker === undefined) === (flags.demo !== true))
    throw new UsageError("give either --broker <url> or --demo");
  const prefix = flags.prefix ?? "tf";
  prefixFlag(prefix);
  if (flags.demo === true) {
    const login = LOGIN_FLAGS.find(([, key]) => flags[key] !== undefined)?.[0];
    if (login !== undefined) throw new UsageError(`${login} is for --broker; the demo fleet has no broker`);
    if (flags.prefix !== undefined)
      throw new UsageError("--prefix is for --broker; the demo fleet has no topics");
  } else {
    // Taken without a word: `--broker … --nodes 50` watched the whole fleet the broker holds.
    const demoOnly = flags.nodes !== undefined ? "--nodes" : flags.seed !== undefined ? "--seed" : undefined;
    if (demoOnly !== undefined)
      throw new UsageError(
        `${demoOnly} is for --demo (the demo fleet's ${demoOnly === "--nodes" ? "size" : "seed"}); a live fleet's nodes are the ones its broker holds`,
      );
  }
  if (flags.demo === true && flags.via !== undefined)
    throw new UsageError("--via is for --broker: the demo fleet has no twins service to ask");
  if (flags.viaTokenFile !== undefined && flags.via === undefined)
    throw new UsageError("--via-token-file is the token of --via's twins service: give --via too");
  const via =
    flags.via === undefined
      ? undefined
      : {
          origin: viaOrigin(flags.via),
          token: resolvePassword(
            { passwordFile: flags.viaTokenFile } as { passwordFile?: string },
            {},
            {
              flag: "--via-token",
              file: "--via-token-file",
              env: "",
            },
          ),
        };
  const ascii = flags.ascii === true ? true : undefined;
  const http = await resolveHttpOptions(flags, io.env ?? process.env);
  // The console draws on a terminal and reads its keys from it (console/terminal.ts); on a pipe or a
  // file it would write escape codes until a signal. Checked once the broker's flags are (their
  // errors come first), before anything starts. The --http address too: a port in use is told
  // before the broker is reached.
  const noConsole = whyNoConsole(process.stdin, process.stdout, io.env ?? process.env);
  const tty = noConsole === undefined;
  const needTerminal = async () => {
    if (!tty && !http)
      throw new UsageError(
        `the console needs a terminal, and ${noConsole}: run it in a terminal, or give --http [HOST:]PORT to serve the web page instead`,
      );
    if (http !== undefined) await checkHttpAddress(http);
  };
  /** What closed the console, when not the user's quit: SIGTERM, SIGHUP, its terminal hanging up. */
  let cutBy: string | undefined;
  /** The first stop signal heard, from the command's start. */
  let stopped: NodeJS.Signals | undefined;
  /**
   * The console in a terminal; without one, with --http, the web page alone until a signal. Either
   * ends, with its error, when `reached` rejects (a live fleet's broker refused what waiting for it
   * cannot fix).
   */
  const watch = async (
    source: ConsoleSource,
    web: HttpOptions | undefined,
    deps: WebDeps,
    reached: Promise<void> = Promise.resolve(),
  ) => {
    // A stop while it started: nothing opened, nothing served (the terminal left as it was).
    if (stopped !== undefined) return;
    const server = web
      ? await serveWeb(source, "monitor", web, {
          ...deps,
          logger: commandLogger(program, io),
          showToken: tokenShown(program, io),
          secret: io.secret,
        })
      : undefined;
    try {
      if (tty || !server) {
        if (stopped !== undefined) return; // one while the page started
        const minutes = via && new RemoteMinutes({ ...via, scheduler: wallScheduler });
        const screen = openConsole(source, { fps, ascii, ...(minutes ? { minutes } : {}) });
        const stopAsking = () => minutes?.close();
        screen.closed.then(stopAsking, stopAsking);
        let refused: { error: unknown } | undefined;
        reached.catch((error: unknown) => {
          refused = { error };
          screen.close();
        });
        const end = await screen.closed;
        if (refused !== undefined) throw refused.error;
        if (end !== "quit" && end !== "closed") cutBy = end;
      } else if (stopped === undefined) await untilSignalOr(reached);
    } finally {
      await server?.close();
    }
  };
  const run = async () => {
    if (flags.demo) {
      await needTerminal();
      const scheduler = new RealScheduler();
      const source = new DemoSource({ nodes, seed: flags.seed ?? "twinfleet", scheduler }).run();
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
      await needTerminal();
      // As `twinfleet twins`, it waits for a broker not there yet. Its lines go to the log when the
      // page is served alone; on a terminal the console's own log and fault flag tell it (log lines
      // would tear the screen).
      const twins = await startTwins({
        url: c.url,
        ...c.login,
        prefix,
        waitForBroker: true,
        warnEmptyFleet: true,
        ...(tty || !http ? {} : { logger: commandLogger(program, io) }),
      });
      const source = new TwinsSource(twins, `${c.url} prefix ${prefix}`);
      try {
        await watch(
          source,
          http,
          { scheduler: wallScheduler, figures: twinsFigures(twins, () => wallScheduler.now()) },
          twins.reached,
        );
      } finally {
        source.close();
        await twins.close();
      }
    }
  };
  // The console closes on SIGTERM and SIGHUP (console/terminal.ts), the page served alone stops on
  // SIGTERM and SIGINT; these handlers stay until the command is done, so that another one, while the
  // fleet's service closes, cuts nothing half-way. One before the console opens or the page is served
  // (held from the process's first line: cli/early-hang-ups.ts) ends the command there, as it would
  // once open: Ctrl-C as the console's quit (exit 0), SIGTERM closing it (130), the page stopped (0).
  // Before, Node's default for a SIGTERM then ended the process by the signal (exit 143).
  const onStop = (signal: NodeJS.Signals) => {
    stopped ??= signal;
    if (tty && signal !== "SIGINT") cutBy ??= signal;
  };
  const signals = tty ? ["SIGINT", ...STOP_SIGNALS] : ["SIGINT", "SIGTERM"];
  for (const s of signals) process.on(s, onStop);
  for (const s of takeStops()) onStop(s);
  try {
    await run();
  } finally {
    for (const s of signals) process.off(s, onStop);
  }
  if (cutBy !== undefined) {
    // Ended from outside, as a run is cut short (docs/cli.md, "Exit codes"); a terminal that is gone
    // takes nothing more (cli/output.ts drops it).
    io.stderr(`twinfleet monitor: ${cutBy === "hung up" ? "the terminal hung up" : cutBy}: console closed\n`);
    io.exit?.(CUT_SHORT_EXIT);
    return;
  }
  io.stderr(`twinfleet monitor: ${tty || !http ? "console closed" : "stopped"}\n`);
}
