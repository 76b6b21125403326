/**
 * What `twinfleet twins` runs (declared in cli/commands/twins.ts, which loads this module only then):
 * the twins service, logging events until a signal, serving the web page with --http, and waiting
 * for a broker not there yet (docs/twins.md, "Starting before the broker"). Apart from the one-shot
 * commands (cli/commands/twins-run.ts), which need none of the web server it loads.
 */
import type { Logger } from "pino";
import { watchOwnHeap } from "../../fleet/heap-watch.js";
import { isStopSignal, StopRequest } from "../../node/stop-request.js";
import { shown } from "../../protocol/shown.js";
import { jsonFileStore, openingTold, StopWait, startTwins, wallScheduler } from "../../twins/index.js";
import { twinsFigures } from "../../view/figures.js";
import { TwinsSource } from "../../view/twins-source.js";
import { brokerStoreIn } from "../data-dir-mixup.js";
import { takeHangUps, takeStops, userSignalLine, userSignals } from "../early-hang-ups.js";
import { UsageError } from "../errors.js";
import { checkHttpAddress, type HttpOptions, resolveHttpOptions, serveWeb, tokenShown } from "../http.js";
import type { HttpFlags } from "../http-options.js";
import { commandLogger } from "../log.js";
import type { CliIO } from "../main.js";
import { spanFlag } from "../span-flag.js";
import { logEvents } from "../twins-events-log.js";
import { connectionOf, type FleetFlags, wholeFlag } from "./twins-run.js";

export interface TwinsServiceFlags extends FleetFlags, HttpFlags {
  readonly data?: string;
  readonly maxNodes?: string;
  readonly forgetAfter?: string;
}

/**
 * The shortest `--forget-after`: longer than any reboot, broker restart or firmware update keeps a
 * healthy node silent (it registers within seconds of coming back), so that no span taken retires a
 * node for a hiccup; a fleet switched off for a weekend is the operator's span to choose (docs/twins.md).
 */
export const FORGET_AFTER_MIN_MS = 3_600_000;

export async function runTwinsService(
  flags: TwinsServiceFlags,
  program: { opts(): Record<string, unknown> },
  io: CliIO,
): Promise<void> {
  // As sim --twins-data words it; an empty name would fail later as a bare "scandir ''".
  if (flags.data !== undefined && flags.data.trim() === "")
    throw new UsageError(`--data: must be a directory, got ${shown(flags.data)}`);
  if (flags.forgetAfter !== undefined)
    spanFlag("--forget-after", flags.forgetAfter, FORGET_AFTER_MIN_MS, "1h");
  const http = await resolveHttpOptions(flags, io.env ?? process.env);
  if (http !== undefined) await checkHttpAddress(http);
  const logger = commandLogger(program, io);
  // A service's SIGHUP (a reload, a terminal gone) neither ends it nor changes anything: it has no
  // files to read again, and Node's default for the signal ended it without its goodbye.
  const hungUp = () =>
    logger.info("SIGHUP: the twins service reloads nothing and goes on (SIGTERM or Ctrl-C stops it)");
  process.on("SIGHUP", hungUp);
  if (takeHangUps() > 0) hungUp();
  userSignals((signal) => logger.warn(userSignalLine(signal, "twins service")));
  // SIGINT and SIGTERM stop it from here until it has closed, those heard while the process started
  // included: one while it starts, once what it started can be closed; one more while it stops is
  // told, and the stop goes on — its last save and its lock's removal are not cut short. A stop that
  // waits for a save its disk does not answer says so, and how long (twins/stop-wait.ts).
  const stopWait = new StopWait(wallScheduler, logger);
  const stop = new StopRequest((signal) => logger.info(stopWait.againLine(signal)));
  for (const signal of takeStops()) if (isStopSignal(signal)) stop.ask(signal);
  // Told at once when the start waits for its data directory, as when the stop waits for a save.
  void stop.asked.then((signal) => stopWait.begin(signal));
  try {
    await serveTwins(flags, io, logger, http, { stop, stopWait }, tokenShown(program, io));
  } finally {
    stopWait.done();
    stop.release();
    process.off("SIGHUP", hungUp);
  }
}

async function serveTwins(
  flags: TwinsServiceFlags,
  io: CliIO,
  logger: Logger,
  http: HttpOptions | undefined,
  { stop, stopWait }: { stop: StopRequest; stopWait: StopWait },
  showToken: boolean,
): Promise<void> {
  const c = connectionOf(flags, io, (msg) => logger.warn(msg));
  // Stopped before it took its directory or the broker (systemd stopping a unit just started).
  if (stop.first !== undefined) {
    logger.info(`${stop.first} before the twins service started: it stops without starting`);
    return;
  }
  const mixup = flags.data === undefined ? undefined : brokerStoreIn(flags.data);
  if (mixup !== undefined) logger.warn(`twins: ${mixup}`);
  // Out of memory, V8 ends the process with its own fatal error: the heap near its limit is told first
  // (from the start: the broker's retained reports and the store fill it as it starts).
  const heap = watchOwnHeap("twins", (line) => logger.warn(line));
  // A frozen or hung disk holds the lock's write: told, not waited for in silence, to a stop too.
  const store =
    flags.data === undefined
      ? undefined
      : await openingTold(
          jsonFileStore(flags.data, logger),
          flags.data,
          wallScheduler,
          logger,
          stopWait,
        ).catch((e: unknown) => {
          heap.stop();
          throw e;
        });
  // Stopped while it waited for its directory: it lets the directory go, and starts nothing.
  if (stop.first !== undefined) {
    heap.stop();
    await store?.close();
    logger.info(`${stop.first} while the twins service was starting: it stops without starting`);
    return;
  }
  // Started beside its broker (both units at boot, after a power cut), the service waits for it:
  // serving its stored state meanwhile, ended by a signal or by what waiting cannot fix.
  const t = await startTwins({
    url: c.url,
    ...c.login,
    prefix: flags.prefix,
    logger,
    waitForBroker: true,
    // A broker or prefix that is not the fleet's shows no node: said, with the prefixes it holds.
    warnEmptyFleet: true,
    ...(flags.maxNodes !== undefined ? { maxNodes: maxNodesOf(flags.maxNodes) } : {}),
    ...(flags.forgetAfter !== undefined
      ? { forgetAfterMs: spanFlag("--forget-after", flags.forgetAfter, FORGET_AFTER_MIN_MS, "1h") }
      : {}),
    ...(store !== undefined ? { store } : {}),
  }).catch((e: unknown) => {
    heap.stop();
    throw e;
  });
  stopWait.watch(t);
  const eventsLog = logEvents(t, logger, wallScheduler);
  // Two services on one fleet each send their own desire, and undo each other's pairings: the service
  // watches for the others as long as it runs and tells each that comes or goes (twins/other-services.ts).
  const source = http ? new TwinsSource(t, `${c.url} prefix ${flags.prefix}`, wallScheduler) : undefined;
  const web =
    source && http
      ? await serveWeb(source, "twins", http, {
          logger,
          showToken,
          scheduler: wallScheduler,
          figures: twinsFigures(t, () => wallScheduler.now()),
          ...(io.secret ? { secret: io.secret } : {}),
        }).catch(async (e: unknown) => {
          // The service is up: without it closed the process would never exit.
          source.close();
          await t.close();
          heap.stop();
          throw e;
        })
      : undefined;
  logger.info({ broker: c.url, prefix: flags.prefix }, "twins: watching the fleet; Ctrl-C stops");
  try {
    // Until stopped, or the broker refused what waiting for it cannot fix (Twins.reached rejects).
    await Promise.race([stop.asked, t.reached.then(() => new Promise<never>(() => {}))]);
  } finally {
    // Said at once, and again while it lasts, when the stop waits for a save its disk does not answer.
    stopWait.begin(stop.first ?? "stop");
    await web?.close();
    source?.close();
    await t.close();
    eventsLog.stop();
    heap.stop();
  }
  // The store behind the service as it stopped (a full disk): logged by the service; not a clean exit.
  if (t.unsavedSince !== undefined) io.exit?.(1);
}

function maxNodesOf(flag: string): number {
  return wholeFlag("--max-nodes", flag, "nodes", 1);
}
