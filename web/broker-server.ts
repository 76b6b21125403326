/**
 * The HTTP side of a standalone broker (`twinfleet broker --http`): `GET /metrics` (Prometheus text,
 * web/broker-metrics.ts), `GET /healthz` (200 while it listens and its store answers, else 503
 * naming what is wrong) and `GET /backup` (a snapshot of its store, web/broker-backup-route.ts). Built as the web control server is (web/http-app.ts), with its rules in the
 * same order (web/route-check.ts): a request target of the wrong form refused, loopback Host names
 * only on a loopback bind, 404 for another path and 405 for another method before the bearer token
 * beyond loopback (web/auth.ts, `/healthz` public), 400 for a query parameter (neither route reads
 * one), every error as problem+json (web/problem.ts), and its connections capped and counted in
 * `/metrics` (web/connection-limits.ts). Opened before the broker's store (`starting`): until
 * `started(figures)`, `/healthz` and `/backup` answer 503 naming what the start waits on and `/metrics`
 * gives `twinfleet_broker_store_up 0`, so that a probe tells a start held by its disk from a dead broker.
 */
import type { BrokerFigures, HostLookup } from "../broker/index.js";
import type { Scheduler } from "../node/scheduler.js";
import { addBackupRoute, type BackupLog } from "./broker-backup-route.js";
import { BrokerMetrics } from "./broker-metrics.js";
import type { ConnectionLimits } from "./connection-limits.js";
import type { WebWarn } from "./connection-warnings.js";
import { httpApp } from "./http-app.js";
import { type HttpBind, httpBind, listenOrRelease } from "./listen.js";
import { problem, sendProblem } from "./problem.js";
import { refuseQuery } from "./route-check.js";

/** A broker not started yet: its store's kind, and what its start waits on (broker/store-open-wait.ts). */
export interface BrokerStarting {
  readonly store: BrokerFigures["store"];
  /** The start's wait for its data directory, once told; else undefined. */
  problem(): string | undefined;
}

export interface BrokerHttpOptions {
  /** A running broker's figures, or one still starting (then `started()` once it listens). */
  readonly figures: BrokerFigures | { readonly starting: BrokerStarting };
  /** Default 127.0.0.1; port 0 picks a free one. */
  readonly host?: string;
  readonly port: number;
  /** Needed by every read beyond loopback (`/healthz` excepted). */
  readonly token: string;
  /** Header and request timeouts, and connections open at once (web/connection-limits.ts). */
  readonly connections?: ConnectionLimits;
  /**
   * Where `host` resolved (httpBind), when the caller looked it up already and judged by it; else
   * `host` is looked up here, with `lookup` (default: the system's).
   */
  readonly bind?: HttpBind;
  readonly lookup?: HostLookup;
  /** Told of each backup given (`GET /backup`, web/broker-backup-route.ts). */
  readonly onBackup?: BackupLog;
  /** How long a backup's client may read nothing before it is cut (BACKUP_STALL_MS), and on what clock. */
  readonly backupStallMs?: number;
  readonly scheduler?: Scheduler;
  /** Where the WARN lines of clients cut or refused go (web/connection-warnings.ts). */
  readonly warn?: WebWarn;
}

export interface BrokerHttpServer {
  readonly port: number;
  /** `http://HOST:PORT` (an IPv6 host in brackets). */
  readonly origin: string;
  /** The broker listens now: its figures are served from here on. */
  started(figures: BrokerFigures): void;
  close(): Promise<void>;
}

/** `/healthz`'s answer: ok with a few figures, or what is wrong. */
export function brokerHealth(
  figures: BrokerFigures,
):
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly detail: string } {
  if (!figures.listening()) return { ok: false, detail: "the broker is closing" };
  const store = figures.storeHealth();
  if (!store.up) return { ok: false, detail: store.problem };
  const clients = Object.values(figures.clientsNow()).reduce((a, b) => a + b, 0);
  return { ok: true, body: { status: "ok", store: figures.store, clients } };
}

const SERVED = "this broker serves /metrics, /healthz and /backup";

export async function startBrokerHttp(o: BrokerHttpOptions): Promise<BrokerHttpServer> {
  const host = o.host ?? "127.0.0.1";
  // Loopback or not by the addresses bound, looked up once, before anything opens.
  const { addresses, loopback } = o.bind ?? (await httpBind(host, o.lookup));
  const { app, connections } = httpApp({
    connections: o.connections,
    ...(o.scheduler ? { scheduler: o.scheduler } : {}),
    ...(o.warn ? { warn: o.warn } : {}),
    rules: {
      loopback,
      host,
      token: o.token,
      tokenFrom: "the token given with --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN",
      servedHint: SERVED,
    },
  });
  let figures = "starting" in o.figures ? undefined : o.figures;
  let metrics = figures === undefined ? undefined : new BrokerMetrics(figures, connections);
  const starting = "starting" in o.figures ? o.figures.starting : undefined;
  app.addHook("preValidation", async (req) => refuseQuery(req));
  // Before the broker listens (its store not open yet), every route says so, past the same checks.
  app.addHook("preHandler", async (req, reply) => {
    if (figures !== undefined || starting === undefined) return;
    if (req.routeOptions.url === "/metrics")
      return reply.type(PROMETHEUS_TEXT).send(startingMetrics(starting));
    return sendProblem(reply, problem(503, startingDetail(starting)));
  });
  app.get("/metrics", async (_req, reply) => {
    reply.type(metrics?.contentType ?? PROMETHEUS_TEXT);
    return metrics?.text() ?? "";
  });
  app.get("/healthz", async (_req, reply) => {
    if (figures === undefined) return sendProblem(reply, problem(503, "the broker is starting"));
    const health = brokerHealth(figures);
    if (health.ok) return health.body;
    return sendProblem(reply, problem(503, health.detail));
  });
  addBackupRoute(app, () => figures, {
    log: o.onBackup,
    scheduler: o.scheduler,
    stallMs: o.backupStallMs,
  });
  const at = await listenOrRelease(app, host, addresses, o.port, () => metrics?.close());
  let closed: Promise<void> | undefined;
  return {
    port: at.port,
    origin: at.origin,
    started(running) {
      if (figures !== undefined || closed !== undefined) return;
      figures = running;
      metrics = new BrokerMetrics(running, connections);
    },
    close() {
      closed ??= (async () => {
        metrics?.close();
        await app.close();
      })();
      return closed;
    },
  };
}

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

/** `/healthz`'s 503 while the broker starts: what the start waits on, once told. */
function startingDetail(s: BrokerStarting): string {
  const waits = s.problem();
  return waits === undefined
    ? "the broker is starting: its store is not open yet, its MQTT port not opened"
    : `the broker is starting: ${waits}; its MQTT port opens once it has`;
}

/** `/metrics` while the broker starts: its store down, nothing else counted yet. */
function startingMetrics(s: BrokerStarting): string {
  return [
    "# HELP twinfleet_broker_store_up 1 while the store answers and takes writes; 0 while the broker starts (its store not open yet), while LevelDB writes fail or stop finishing, or Redis is silent or lost",
    "# TYPE twinfleet_broker_store_up gauge",
    `twinfleet_broker_store_up{store="${s.store}"} 0`,
    "",
  ].join("\n");
}
