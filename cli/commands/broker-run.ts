/**
 * What `twinfleet broker` and `twinfleet broker hash-password` run (declared in
 * cli/commands/broker.ts, which loads this module only when one of them runs): the embedded broker
 * with its listening line and exposure warning, and a password hash read from stdin.
 */
import {
  type BrokerCommandOptions,
  DEFAULT_PORT,
  hashPassword,
  runBrokerCommand,
} from "../../broker/index.js";
import { watchOwnHeap } from "../../fleet/heap-watch.js";
import { bindMessage, exposureWarning } from "../bind.js";
import { twinsStoreIn } from "../data-dir-mixup.js";
import { takeHangUps, takeStops, userSignalLine, userSignals } from "../early-hang-ups.js";
import { ephemeralPortWarnings } from "../ephemeral-ports.js";
import { UsageError } from "../errors.js";
import { checkHttpAddress, resolveHttpOptions, serveBrokerHttp } from "../http.js";
import type { HttpFlags } from "../http-options.js";
import { commandLogger } from "../log.js";
import type { CliIO } from "../main.js";
import { MAX_PASSWORD_BYTES, passwordProblem, streamFirstLine } from "../password-text.js";

export type BrokerFlags = BrokerCommandOptions & HttpFlags & { readonly exitOnStdinClose?: boolean };

export async function runBroker(
  flags: BrokerFlags,
  program: { opts(): Record<string, unknown> },
  io: CliIO,
): Promise<void> {
  const {
    http: _http,
    httpToken: _token,
    httpTokenFile: _tokenFile,
    exitOnStdinClose,
    ...brokerFlags
  } = flags;
  // Checked before the broker starts: a bad --http or a port in use is one line, nothing left running.
  const http = await resolveHttpOptions(flags, io.env ?? process.env);
  if (http !== undefined) {
    httpOnAListener(flags, http);
    await checkHttpAddress(http);
  }
  const logger = commandLogger(program, io);
  userSignals((signal) => logger.warn(userSignalLine(signal, "broker")));
  const mixup = flags.data === undefined ? undefined : twinsStoreIn(flags.data);
  if (mixup !== undefined) logger.warn(mixup);
  const watch = exitOnStdinClose ? stdinClosed(logger) : undefined;
  // Out of memory, V8 ends the process with its own fatal error: its heap near its limit is told
  // first (a `sim --broker-process` run relays the line; it said nothing while the broker starved).
  const heap = watchOwnHeap("broker-process", (line) => logger.warn(line));
  try {
    await runBrokerCommand(brokerFlags, {
      logger,
      hangUpsBefore: takeHangUps,
      stopsBefore: takeStops,
      ...(watch ? { signal: watch.signal } : {}),
      ...(http === undefined
        ? {}
        : {
            http: async (starting) => {
              const server = await serveBrokerHttp({ starting }, http, {
                logger,
                ...(io.secret ? { secret: io.secret } : {}),
              });
              return { started: (b) => server.started(b.figures), close: () => server.close() };
            },
          }),
      onListening: (b) => {
        const host = flags.host ?? "0.0.0.0";
        const { port, tlsPort, wsPort, addresses } = b;
        logger.info(bindMessage({ host, port, tlsPort, wsPort, addresses }));
        const warning = exposureWarning(host, flags.auth !== undefined, addresses);
        if (warning !== undefined) logger.warn(warning);
        // A port asked as 0 is the kernel's own choice: only the ports given are judged.
        const given = (flag: unknown, bound: number | undefined) =>
          flag !== undefined && Number(flag) === 0 ? undefined : bound;
        for (const w of ephemeralPortWarnings([
          ["--port", given(flags.port, port)],
          ["--tls-port", given(flags.tlsPort, tlsPort)],
          ["--ws-port", given(flags.wsPort, wsPort)],
          ["--http", http?.port],
        ]))
          logger.warn(w);
      },
    });
  } finally {
    heap.stop();
    watch?.release();
  }
}

/**
 * `--http` on the port of one of the broker's own listeners, at an address it listens on too: the
 * broker started, then said the --http port was in use and stopped (exit 1), as if another process
 * held it. A usage error naming both flags instead.
 */
function httpOnAListener(flags: BrokerFlags, http: { readonly host: string; readonly port: number }): void {
  const wildcard = (h: string) => h === "0.0.0.0" || h === "::" || h === "[::]";
  const host = flags.host ?? "0.0.0.0";
  if (http.port === 0 || !(wildcard(host) || wildcard(http.host) || host === http.host)) return;
  const listeners = [
    ["--port", flags.port ?? DEFAULT_PORT],
    ["--ws-port", flags.wsPort],
    ["--tls-port", flags.tlsPort],
  ] as const;
  for (const [flag, port] of listeners)
    if (port !== undefined && Number(port) === http.port)
      throw new UsageError(
        `--http: port ${http.port} is the broker's ${flag}${flag === "--port" && flags.port === undefined ? ` (default ${DEFAULT_PORT})` : ""} too: give --http a port of its own`,
      );
}

/**
 * Aborted when stdin ends: `sim --broker-process` starts the broker with a pipe it never writes to,
 * which the kernel closes when the sim's process dies, however it dies. Without it a sim killed with
 * SIGKILL left its broker running, holding its port and its data directory's lock (the next run's
 * broker then failed on `lock …/LOCK: Resource temporarily unavailable`).
 */
function stdinClosed(logger: { info(msg: string): void }): { signal: AbortSignal; release(): void } {
  const ended = new AbortController();
  const stop = () => {
    if (ended.signal.aborted) return;
    logger.info("stdin closed (the process that started the broker is gone): stopping");
    ended.abort();
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  // Once the broker has stopped (by a signal too), stdin must not keep the process alive.
  const release = () => {
    process.stdin.off("end", stop);
    process.stdin.off("close", stop);
    process.stdin.destroy();
  };
  return { signal: ended.signal, release };
}

export async function runHashPassword(io: CliIO, brokerFlags: Record<string, unknown> = {}): Promise<void> {
  // `broker --port 1 hash-password`: the broker's flags would be taken and ignored.
  const given = Object.keys(brokerFlags).filter((k) => brokerFlags[k] !== undefined);
  if (given.length > 0)
    throw new UsageError(
      `takes no flags; --${given[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for \`twinfleet broker\``,
    );
  const { line, cut } = await streamFirstLine(process.stdin);
  if (cut)
    throw new Error(
      `the line on stdin is longer than ${MAX_PASSWORD_BYTES} bytes, the most an MQTT CONNECT carries`,
    );
  if (line.length === 0) throw new Error("no password on stdin");
  const problem = passwordProblem(line);
  if (problem !== undefined) throw new Error(`the password on stdin ${problem}`);
  io.stdout(`${await hashPassword(line)}\n`);
}
