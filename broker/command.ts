/**
 * `twinfleet broker`: what the CLI calls with the parsed flags. Validates them, loads the
 * credentials file, runs the broker until a signal (or the caller's AbortSignal) and closes it.
 */
import { type Logger, pino } from "pino";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { CredentialsFileError, loadCredentialsFile } from "./credentials.js";
import type { StoreHealth } from "./figures.js";
import { OpenFilesWatch } from "./open-files-watch.js";
import { type BrokerCommandOptions, BrokerOptionsError, parseBrokerCommandOptions } from "./options.js";
import { type RunningBroker, startBroker } from "./server.js";
import { loadTlsMaterial, TlsFileError } from "./tls.js";

export interface BrokerCommandContext {
  /** Defaults to pino at level "info" on stdout. */
  readonly logger?: Logger;
  /** Stops the broker when aborted; SIGINT and SIGTERM always do. */
  readonly signal?: AbortSignal;
  /** Called once the broker listens (e.g. to print the URL or for tests). */
  readonly onListening?: (broker: RunningBroker) => void;
  /** The clock of the open-files watch (broker/open-files-watch.ts); real time by default. */
  readonly scheduler?: Scheduler;
  /**
   * Started once the broker listens, stopped before it closes (the CLI's `/metrics` server): a
   * failure to start closes the broker and rejects the command with it.
   */
  readonly attach?: (broker: RunningBroker) => Promise<{ close(): Promise<void> }>;
}

const TLS_FLAGS = { key: "--tls-key", certificate: "--tls-cert", pair: "--tls-key/--tls-cert" } as const;

/** A file's error as a bad flag value (exit 2) naming `flag`; any other error as it is. */
const flagged =
  (flag: string) =>
  (e: unknown): never => {
    if (e instanceof CredentialsFileError || e instanceof TlsFileError)
      throw new BrokerOptionsError(`${flag}: ${e.message}`);
    throw e;
  };

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
  // The files the flags name, read before anything listens; what is wrong with one names its flag.
  const auth =
    authFile === undefined ? undefined : await loadCredentialsFile(authFile).catch(flagged("--auth"));
  if (options.tls !== undefined) {
    const { keyFile, certFile } = options.tls;
    await loadTlsMaterial(keyFile, certFile).catch((e: unknown) => {
      const flag = e instanceof TlsFileError ? TLS_FLAGS[e.file] : "--tls-key/--tls-cert";
      return flagged(flag)(e);
    });
  }
  const broker = await startBroker({ ...options, auth, logger });
  context.onListening?.(broker);
  const attached = await context.attach?.(broker).catch(async (err: unknown) => {
    await broker.close();
    throw err;
  });
  const files = new OpenFilesWatch(
    () => broker.aedes.connectedClients,
    logger,
    context.scheduler ?? new RealScheduler(),
  );
  files.start();

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      context.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (context.signal?.aborted) stop();
    else context.signal?.addEventListener("abort", stop);
  });
  files.stop();
  await attached?.close();
  await broker.close();
  // Redis is the broker's connection, closed now, not a disk: only a data directory's health tells.
  const health: StoreHealth = broker.figures.store === "level" ? broker.figures.storeHealth() : { up: true };
  if (!health.up)
    throw new Error(
      `${health.problem} as the broker stopped: what it stored since writes began to fail (retained ` +
        "messages, wills, sessions) is not in it; the next start has what it held before",
    );
}
