/**
 * `twinfleet broker`: what the CLI calls with the parsed flags. Validates them, loads the
 * credentials file, runs the broker until a signal (or the caller's AbortSignal) and closes it.
 */
import { type Logger, pino } from "pino";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { isStopSignal, StopRequest } from "../node/stop-request.js";
import { CredentialsFileError, loadCredentialsFile } from "./credentials.js";
import type { StoreHealth } from "./figures.js";
import { OpenFilesWatch } from "./open-files-watch.js";
import { type BrokerCommandOptions, BrokerOptionsError, parseBrokerCommandOptions } from "./options.js";
import { certificateProblem, type ReloadInput } from "./reload.js";
import { type RunningBroker, startBroker } from "./server.js";
import { KILL_WHILE_STALLED } from "./store-close-wait.js";
import { StoppedWhileStarting, StoreOpenWait } from "./store-open-wait.js";
import { loadTlsMaterial, TlsFileError } from "./tls.js";

export interface BrokerCommandContext {
  /** Defaults to pino at level "info" on stdout. */
  readonly logger?: Logger;
  /** Stops the broker when aborted; SIGINT and SIGTERM always do. */
  readonly signal?: AbortSignal;
  /** Called once the broker listens (e.g. to print the URL or for tests). */
  readonly onListening?: (broker: RunningBroker) => void;
  /**
   * The broker's one clock: of the open-files watch (broker/open-files-watch.ts), of the start's wait
   * for its store (broker/store-open-wait.ts), and of the broker itself (its Redis health PINGs,
   * broker/redis-health.ts, its store's stall watch, its connection waits); real time by default.
   */
  readonly scheduler?: Scheduler;
  /**
   * Started before the broker's store opens, told once the broker listens, stopped before it closes
   * (the CLI's `--http`): while the start waits on its data directory, `/healthz` says so with a 503
   * where it was refused. A failure to start rejects the command with it, nothing opened.
   */
  readonly http?: (starting: StartingBroker) => Promise<AttachedHttp>;
  /** The date (ms since the epoch) a certificate's validity is judged at; Date.now by default. */
  readonly now?: () => number;
  /**
   * SIGHUPs the process heard before this command listened for them (the CLI holds them from its
   * first lines, cli/early-hang-ups.ts); called once this command does.
   */
  readonly hangUpsBefore?: () => number;
  /**
   * The stop signals the process heard before this command listened for them (cli/early-hang-ups.ts):
   * the broker stops as soon as it can, without listening when it had not started.
   */
  readonly stopsBefore?: () => readonly string[];
}

/** A broker not listening yet, as its `--http` tells it: its store's kind and what its start waits on. */
export interface StartingBroker {
  readonly store: "memory" | "level" | "redis";
  problem(): string | undefined;
}

/** The `--http` server, open while the broker starts. */
export interface AttachedHttp {
  started(broker: RunningBroker): void;
  close(): Promise<void>;
}

const TLS_FLAGS = { key: "--tls-key", certificate: "--tls-cert", pair: "--tls-key/--tls-cert" } as const;

const tlsFlagged = (e: unknown): never => {
  const flag = e instanceof TlsFileError ? TLS_FLAGS[e.file] : "--tls-key/--tls-cert";
  return flagged(flag)(e);
};

/** A file's error as a bad flag value (exit 2) naming `flag`; any other error as it is. */
const flagged =
  (flag: string) =>
  (e: unknown): never => {
    if (e instanceof CredentialsFileError || e instanceof TlsFileError)
      throw new BrokerOptionsError(`${flag}: ${e.message}`);
    throw e;
  };

/**
 * The line for a stop signal heard while the broker stops: on a data directory that does not answer,
 * what the stop waits for and what SIGKILL would cost, where it said "SIGKILL ends it at once".
 */
export function stoppingAgainLine(signal: string, store: StoreHealth): string {
  return store.up
    ? `${signal}: the broker is stopping already (closing its connections, then its store); it ends once they are closed (SIGKILL ends it at once)`
    : `${signal}: the broker is stopping already, and waits for its store: ${store.problem}. ${KILL_WHILE_STALLED}`;
}

/**
 * Runs until stopped; resolves once the broker has closed cleanly. Rejects with a one-line
 * message (BrokerOptionsError, or a port/TLS/credentials/data error) that the CLI should print as is;
 * also once closed, when its data directory could still not be written as it stopped (a full or
 * read-only disk): what it stored since is not in it, and a clean exit would say nothing was lost.
 */
export async function runBrokerCommand(
  flags: BrokerCommandOptions,
  context: BrokerCommandContext = {},
): Promise<void> {
  const { broker: options, authFile } = parseBrokerCommandOptions(flags);
  const logger = context.logger ?? pino({ level: "info" });
  const now = context.now ?? Date.now;
  // One clock for everything the command times: the broker's own watches ran on real time before,
  // beside a start's wait on the caller's (a slow Redis's PINGs came each real second).
  const scheduler = context.scheduler ?? new RealScheduler();
  // SIGHUP reloads the files (docs/broker.md, Reloading); one that comes while starting waits for it.
  const hangUps = new HangUps(logger);
  process.on("SIGHUP", hangUps.heard);
  // SIGINT and SIGTERM stop it from here until it has closed: one while it starts, once it listens;
  // one more while it stops is told, and the stop goes on (node/stop-request.ts). On a data
  // directory that does not answer, what it waits for (broker/store-close-wait.ts).
  let running: RunningBroker | undefined;
  let http: AttachedHttp | undefined;
  // The start's wait for its data directory, told, to a stop too (broker/store-open-wait.ts).
  const opening = new StoreOpenWait(scheduler, logger);
  const stop = new StopRequest((signal) => {
    if (running === undefined) {
      if (!opening.stop(signal)) logger.info(`${signal}: the broker is stopping already, without starting`);
      return;
    }
    const health: StoreHealth =
      running?.figures.store === "level" ? running.figures.storeHealth() : { up: true };
    logger.info(stoppingAgainLine(signal, health));
  });
  if (context.signal?.aborted) stop.ask("abort");
  else context.signal?.addEventListener("abort", () => stop.ask("abort"));
  for (const signal of context.stopsBefore?.() ?? []) if (isStopSignal(signal)) stop.ask(signal);
  void stop.asked.then((signal) => {
    if (running === undefined) opening.stop(signal === "abort" ? "stopped" : signal);
  });
  // One before this, while the process started, came before the files were read: what it would
  // reload is what the start reads now.
  if ((context.hangUpsBefore?.() ?? 0) > 0)
    logger.info("SIGHUP while the process started, before the files were read: nothing to reload");
  try {
    // The files the flags name, read before anything listens; what is wrong with one names its flag.
    const auth =
      authFile === undefined ? undefined : await loadCredentialsFile(authFile).catch(flagged("--auth"));
    if (options.tls !== undefined) {
      const { keyFile, certFile } = options.tls;
      const { cert } = await loadTlsMaterial(keyFile, certFile).catch(tlsFlagged);
      // Served all the same (there is nothing else to serve), but no client that checks it connects.
      const problem = certificateProblem(cert, now());
      if (problem !== undefined)
        logger.warn(
          `--tls-cert: the certificate in ${certFile} ${problem}: clients that check it will refuse it`,
        );
    }
    // Stopped before it listened (systemd stopping a unit that had just started): nothing to close.
    if (stop.first !== undefined) {
      const why = stop.first === "abort" ? "stopped" : stop.first;
      logger.info(`${why} before the broker listened: it stops without starting`);
      return;
    }
    // --http opens before the store (its MQTT port after): a start held by its disk answers 503.
    const store =
      options.dataDir !== undefined ? "level" : options.redisUrl !== undefined ? "redis" : "memory";
    http = await context.http?.({ store, problem: () => opening.problem });
    const broker = await startBroker({ ...options, auth, logger, scheduler }, opening).catch(
      (err: unknown) => {
        if (err instanceof StoppedWhileStarting) return undefined;
        throw err;
      },
    );
    if (broker === undefined) {
      logger.info(`${opening.stopping} while the broker was starting: it stops without starting`);
      return;
    }
    running = broker;
    hangUps.start(() => reloadFiles(broker, authFile, options.tls, now, logger));
    await serve(broker, { ...context, scheduler }, logger, stop, http);
  } finally {
    await http?.close();
    stop.release();
    process.off("SIGHUP", hangUps.heard);
  }
}

async function serve(
  broker: RunningBroker,
  context: BrokerCommandContext & { readonly scheduler: Scheduler },
  logger: Logger,
  stop: StopRequest,
  http: AttachedHttp | undefined,
): Promise<void> {
  context.onListening?.(broker);
  http?.started(broker);
  const files = new OpenFilesWatch(
    () => broker.aedes.connectedClients,
    logger,
    context.scheduler,
    broker.files === undefined ? {} : { reserve: broker.files },
  );
  files.start();

  await stop.asked;
  files.stop();
  await http?.close();
  await broker.close();
  // Redis is the broker's connection, closed now, not a disk: only a data directory's health tells.
  const health: StoreHealth = broker.figures.store === "level" ? broker.figures.storeHealth() : { up: true };
  if (!health.up)
    throw new Error(
      `${health.problem} as the broker stopped: what it stored since writes began to fail (retained ` +
        "messages, wills, sessions) is not in it; the next start has what it held before",
    );
}

/**
 * SIGHUP's reloads, one at a time: one heard while another runs is run after it (once, however many
 * came); one heard before the broker listens runs once it does.
 */
class HangUps {
  #reload: (() => Promise<void>) | undefined;
  #running = false;
  #again = false;

  constructor(private readonly logger: Logger) {}

  readonly heard = (): void => {
    if (this.#reload === undefined) {
      this.logger.info("SIGHUP while starting: the files are reloaded once the broker listens");
      this.#again = true;
      return;
    }
    if (this.#running) this.#again = true;
    else void this.#run();
  };

  start(reload: () => Promise<void>): void {
    this.#reload = reload;
    if (this.#again) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    do {
      this.#again = false;
      await this.#reload?.();
    } while (this.#again);
    this.#running = false;
  }
}

/** Reads the --auth and TLS files again and hands them to the broker; logs what came of it. */
async function reloadFiles(
  broker: RunningBroker,
  authFile: string | undefined,
  tls: { readonly keyFile: string; readonly certFile: string } | undefined,
  now: () => number,
  logger: Logger,
): Promise<void> {
  const files = [
    ...(authFile === undefined ? [] : [`--auth ${authFile}`]),
    ...(tls === undefined ? [] : [`--tls-key ${tls.keyFile}`, `--tls-cert ${tls.certFile}`]),
  ];
  if (!broker.figures.listening()) {
    logger.info("SIGHUP while the broker closes: nothing reloaded");
    return;
  }
  if (files.length === 0) {
    logger.info("SIGHUP: nothing to reload (the broker was started without --auth and --tls-port)");
    return;
  }
  const outcome = await broker.reload(async (): Promise<ReloadInput> => {
    const auth =
      authFile === undefined ? undefined : await loadCredentialsFile(authFile).catch(flagged("--auth"));
    if (tls === undefined) return { ...(auth ? { auth } : {}) };
    const material = await loadTlsMaterial(tls.keyFile, tls.certFile).catch(tlsFlagged);
    const problem = certificateProblem(material.cert, now());
    if (problem !== undefined)
      throw new BrokerOptionsError(`--tls-cert: the certificate in ${tls.certFile} ${problem}`);
    return { ...(auth ? { auth } : {}), tls: material };
  });
  if (!outcome.ok) {
    logger.error(
      { files },
      `reload on SIGHUP failed: ${outcome.problem}; nothing was changed, the running configuration is kept (fix the file and send SIGHUP again)`,
    );
    return;
  }
  const parts = [
    ...(authFile === undefined
      ? []
      : [
          `--auth ${authFile}: ${outcome.cut} connection${outcome.cut === 1 ? "" : "s"} cut, ${outcome.changed} kept under changed rules`,
        ]),
    ...(tls === undefined || outcome.certificateNotAfter === undefined
      ? []
      : [
          `TLS certificate ${tls.certFile} for new connections, valid until ${new Date(outcome.certificateNotAfter).toISOString()}`,
        ]),
  ];
  logger.info({ cut: outcome.cut, changed: outcome.changed }, `reloaded on SIGHUP: ${parts.join("; ")}`);
}
