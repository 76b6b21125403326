/**
 * The web server's flags, shared by `twinfleet twins`, `sim` and `monitor`: `--http [HOST:]PORT`,
 * `--http-token TOKEN` or `--http-token-file FILE` (else TWINFLEET_HTTP_TOKEN), parsed and checked
 * here into a typed HttpOptions; and serving a fleet view with them: the server starts, the URL line
 * goes through the logger — with a generated token in its fragment only when that log is readable
 * lines on a terminal (`tokenShown`), never into a log file, a pipe or JSON lines, which get shipped
 * and pasted — and the token is masked in all output after.
 */
import { createServer, isIP } from "node:net";
import type { Logger } from "pino";
import type { BrokerFigures, HostLookup } from "../broker/index.js";
import type { FleetRun } from "../fleet/run.js";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { isWholeDecimal } from "../protocol/index.js";
import { shown } from "../protocol/shown.js";
import { simFigures } from "../view/figures.js";
import { SimSource } from "../view/sim-source.js";
import type { ConsoleSource } from "../view/source.js";
import {
  type AddressBounds,
  type BrokerHttpServer,
  type BrokerStarting,
  type FleetFigures,
  type FleetKind,
  type HttpBind,
  httpBind,
  newToken,
  startBrokerHttp,
  startWebServer,
  type WebServer,
} from "../web/index.js";
import { lanAddress } from "./bind.js";
import { clientBounds } from "./client-bounds.js";
import { type Env, resolveHttpToken } from "./connection.js";
import { ephemeralPortWarnings } from "./ephemeral-ports.js";
import { UsageError } from "./errors.js";
import type { HttpFlags } from "./http-options.js";

/** What the web server is told, resolved: never a string to parse below cli/. */
export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** The token came from a flag, a file or the environment (not generated for this run). */
  readonly explicitToken: boolean;
  /** The addresses `host` resolved to, looked up once: the ones bound, and judged loopback or not. */
  readonly bind: HttpBind;
  /** What one client address may take, as `--http-trusted-proxy` and `--http-client-bounds` set it. */
  readonly clientBounds?: AddressBounds;
}

/** `[HOST:]PORT` → host and port; IPv6 hosts in brackets (`[::1]:8080`); the port in plain decimal. */
export function parseHttpAddress(spec: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(spec);
  const port = m && isWholeDecimal(m[2] as string) ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65_535))
    throw new UsageError(
      `--http: ${shown(spec)} is not [HOST:]PORT (e.g. 8080, 127.0.0.1:8080, 0.0.0.0:8080, [::1]:0)`,
    );
  const host = m[1] === undefined ? "127.0.0.1" : m[1].replace(/^\[|\]$/g, "");
  return { host, port };
}

/**
 * The flags' HttpOptions, or undefined without `--http`. Usage errors name the flag. The host is
 * looked up here (`lookup`, default the system's), once: loopback or not is judged by the addresses
 * it names, which are the ones bound.
 */
export async function resolveHttpOptions(
  flags: HttpFlags,
  env: Env,
  lookup?: HostLookup,
): Promise<HttpOptions | undefined> {
  if (flags.http === undefined) {
    if (flags.httpToken !== undefined || flags.httpTokenFile !== undefined)
      throw new UsageError("--http-token and --http-token-file need --http");
    if (flags.httpTrustedProxy !== undefined || flags.httpClientBounds !== undefined)
      throw new UsageError("--http-trusted-proxy and --http-client-bounds need --http");
    return undefined;
  }
  const { host, port } = parseHttpAddress(flags.http);
  const bounds = clientBounds(flags);
  const given = resolveHttpToken(flags, env);
  if (given !== undefined && !/^[\x21-\x7e]{16,200}$/.test(given)) {
    // Named by where it came from: a bad file's first line is not a bad --http-token.
    const from =
      flags.httpToken !== undefined
        ? "--http-token"
        : flags.httpTokenFile !== undefined
          ? `--http-token-file (the first line of ${flags.httpTokenFile})`
          : "TWINFLEET_HTTP_TOKEN";
    throw new UsageError(`${from}: must be 16 to 200 printable characters without spaces`);
  }
  const bind = await httpBind(host, lookup);
  if (given === undefined && !bind.loopback) {
    // A name is told with what it resolved to: `localhost` naming a LAN address is not loopback.
    const at = isIP(host) === 0 ? ` (${host} is ${bind.addresses.join(" and ")})` : "";
    throw new UsageError(
      `--http ${flags.http}: listening beyond loopback${at} needs a token the operator chose: give --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN`,
    );
  }
  return {
    host,
    port,
    token: given ?? newToken(),
    explicitToken: given !== undefined,
    bind,
    ...(bounds ? { clientBounds: bounds } : {}),
  };
}

/**
 * Whether the URL line may carry a generated token: only when the log is readable lines on a terminal
 * (the operator's own screen). Redirected to a file, a pipe or a journal, or as JSON lines, the log is
 * what gets shipped to aggregators and pasted into bug reports; the token, which allows writes, stays
 * out of it (docs/web.md, "Starting the server").
 */
export function tokenShown(
  program: { opts(): Record<string, unknown> },
  io: { readonly stderrIsTerminal?: boolean },
): boolean {
  return io.stderrIsTerminal === true && program.opts().logFormat !== "json";
}

export interface ServeDeps {
  readonly logger: Logger;
  /** The URL line may carry a generated token (`tokenShown`); default no. */
  readonly showToken?: boolean;
  /** The console shows the URL with a generated token in its event log (an interactive run). */
  readonly tokenOnConsole?: boolean;
  /** Masks a secret in all output written after. */
  readonly secret?: (s: string | undefined) => void;
  readonly scheduler: Scheduler;
  readonly figures?: FleetFigures;
}

/**
 * Starts the server over `source` and logs its URL once (a generated token in its fragment when
 * `deps.showToken`), then masks the token. A port given in the kernel's ephemeral range is warned
 * of here, for every command that serves the page (twins, sim, monitor), as the broker warns of its.
 */
export async function serveWeb(
  source: ConsoleSource,
  kind: FleetKind,
  http: HttpOptions,
  deps: ServeDeps,
): Promise<WebServer> {
  const server = await startWebServer({
    source,
    kind,
    host: http.host,
    port: http.port,
    token: http.token,
    tokenFrom: tokenFrom(http, deps.showToken === true || deps.tokenOnConsole === true),
    bind: http.bind,
    ...(http.clientBounds ? { connections: { perAddress: http.clientBounds } } : {}),
    scheduler: deps.scheduler,
    warn: (fields, text) => deps.logger.warn(fields, text),
    ...(deps.figures ? { figures: deps.figures } : {}),
  }).catch((e: unknown) => {
    throw listenError(http, e);
  });
  for (const w of ephemeralPortWarnings([["--http", http.port]])) deps.logger.warn(w);
  deps.logger.info(`web: ${pageUrl(server.origin, http, deps.showToken === true)}`);
  deps.secret?.(http.token);
  return server;
}

/**
 * Serves a standalone broker's `/metrics` and `/healthz` (`twinfleet broker --http`) and logs where.
 * Its reads need the token only beyond loopback, and a generated one is never needed: it is not
 * written anywhere.
 */
export async function serveBrokerHttp(
  figures: BrokerFigures | { readonly starting: BrokerStarting },
  http: HttpOptions,
  deps: { readonly logger: Logger; readonly secret?: (s: string | undefined) => void },
): Promise<BrokerHttpServer> {
  deps.secret?.(http.token);
  const server = await startBrokerHttp({
    figures,
    host: http.host,
    port: http.port,
    token: http.token,
    bind: http.bind,
    ...(http.clientBounds ? { connections: { perAddress: http.clientBounds } } : {}),
    warn: (fields, text) => deps.logger.warn(fields, text),
    onBackup: (outcome, remote) => {
      if ("summary" in outcome) {
        const { keys, bytes, retained, sessions } = outcome.summary;
        deps.logger.info(
          { remote, keys, bytes, retained, sessions },
          `store backup sent to ${remote}: ${keys} keys, ${bytes} bytes (${retained} retained messages, ${sessions} persistent sessions)`,
        );
      } else deps.logger.warn({ remote }, `store backup to ${remote} not finished: ${outcome.error}`);
    },
  }).catch((e: unknown) => {
    throw listenError(http, e);
  });
  const { origin, bound } = reachableOrigin(server.origin, http.host);
  deps.logger.info(`metrics: ${origin}/metrics, health: ${origin}/healthz${bound}`);
  return server;
}

/**
 * Fails now, naming --http and the address, when the server could not listen there (a port in use,
 * an address not on this host): before a run, a broker connection or a store has started, not after.
 */
export async function checkHttpAddress(http: HttpOptions): Promise<void> {
  for (const address of http.bind.addresses) {
    const probe = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        probe.once("error", reject);
        probe.listen({ host: address, port: http.port, exclusive: true }, () => resolve());
      });
    } catch (e) {
      throw listenError(http, e);
    }
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: "the port is in use",
  EACCES: "permission denied",
  EADDRNOTAVAIL: "no such address on this host",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
};

/** A server that could not listen: a runtime error (exit 1) naming --http and the address. */
function listenError(http: HttpOptions, e: unknown): Error {
  const code = (e as { code?: unknown }).code;
  const why = typeof code === "string" ? `${LISTEN_ERRORS[code] ?? "failed"} (${code})` : String(e);
  const host = http.host.includes(":") ? `[${http.host}]` : http.host;
  return new Error(`--http: cannot listen on ${host}:${http.port}: ${why}`);
}

/**
 * The address to open: with a generated token in its fragment when `show` (the one place that token
 * is ever written); a token the operator chose is theirs already and is never written (`#token=…`),
 * nor a generated one into a log that is not readable lines on a terminal: the line says so and how
 * to choose one.
 */
export function pageUrl(listening: string, http: HttpOptions, show: boolean): string {
  const { origin, bound } = reachableOrigin(listening, http.host);
  if (http.explicitToken) return `${origin}/#token=…${bound}`;
  if (show) return `${origin}/#token=${http.token}${bound}`;
  return `${origin}/#token=…${bound} (the generated token is written only to a terminal, never to a log; for writes from the page or the API choose one: --http-token-file FILE or TWINFLEET_HTTP_TOKEN)`;
}

/**
 * Where a client is told to find the token when a request needs it and carries none (the 401's
 * detail): the URL printed holds a generated token only where it was `shown`; a token the operator
 * chose is printed nowhere, and a generated one not shown is known to no one, so writes need the
 * service started again with a token chosen.
 */
export function tokenFrom(http: Pick<HttpOptions, "explicitToken">, shown: boolean): string {
  if (http.explicitToken)
    return "the token given with --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN";
  if (shown) return "the token is in the URL the server printed";
  return "this server generated its token and wrote it nowhere, its log not being a terminal: start it with --http-token-file FILE or TWINFLEET_HTTP_TOKEN to write from the page or the API";
}

/**
 * The origin a start line gives for a server listening at `origin`, bound at `host`: as it listens,
 * but for a wildcard (`0.0.0.0`, `::`) a LAN address of this host, as the broker's MQTT line gives
 * (cli/bind.ts), with the bind after it: `http://192.168.1.20:9100`, ` (bound at 0.0.0.0:9100)`. The
 * line used to give `http://0.0.0.0:9100`, which no other machine can open.
 */
export function reachableOrigin(
  origin: string,
  host: string,
  lan: (ipv6: boolean) => string = (v6) => lanAddress(undefined, v6),
): { origin: string; bound: string } {
  if (host !== "0.0.0.0" && host !== "::") return { origin, bound: "" };
  const at = origin.replace(/^http:\/\//, "");
  return { origin: `http://${lan(host === "::")}:${new URL(origin).port}`, bound: ` (bound at ${at})` };
}

/**
 * Serves a simulated run's view. The URL line goes to the log before a console opens (visible once it
 * closes) and, with the console, to its event log as well; the server closes with the returned handle.
 * On virtual time the event stream's timers run on a wall-time scheduler of their own — frames at a
 * wall cadence whether the run is paused or flat out — while every time they carry is the run's.
 */
export async function serveSim(
  run: FleetRun,
  http: HttpOptions,
  deps: {
    readonly logger: Logger;
    readonly secret?: (s: string | undefined) => void;
    readonly interactive: boolean;
    readonly showToken?: boolean;
  },
): Promise<{ close(): Promise<void> }> {
  const source = new SimSource(run);
  const server = await serveWeb(source, "sim", http, {
    logger: deps.logger,
    scheduler: run.virtual ? new RealScheduler() : run.sched,
    figures: simFigures(run),
    ...(deps.showToken !== undefined ? { showToken: deps.showToken } : {}),
    tokenOnConsole: deps.interactive,
    ...(deps.secret ? { secret: deps.secret } : {}),
  }).catch((e: unknown) => {
    source.close(); // its timers would keep the process alive
    throw e;
  });
  // The console's event log is on the operator's screen: the token is shown there.
  if (deps.interactive) run.emit("log", `web: ${pageUrl(server.origin, http, true)}`, "info");
  return {
    async close() {
      await server.close();
      source.close();
    },
  };
}

/**
 * Until SIGINT or SIGTERM, or `reached` rejecting (a twins service's broker refused what waiting
 * for it cannot fix: `Twins.reached`), with that error.
 */
export function untilSignalOr(reached: Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const off = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
    };
    const done = () => {
      off();
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    reached.catch((e: unknown) => {
      off();
      reject(e);
    });
  });
}
