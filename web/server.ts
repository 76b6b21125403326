/**
 * The web control server: fastify over one fleet view, serving the page (`/`, `/app/*`), the REST API
 * (`/api/*`, described at `/api/openapi.json`), the event stream (`/api/events`), Prometheus metrics
 * (`/metrics`) and `/healthz`. It owns the auth rules (auth.ts), the error shape (problem.ts), the
 * body limit (16 KiB), and its event hub's timers (on the injected Scheduler). Closing it ends every
 * event stream and the listener.
 */
import type { FastifyInstance } from "fastify";
import type { HostLookup } from "../broker/index.js";
import type { Scheduler } from "../node/scheduler.js";
import type { ConsoleSource } from "../view/source.js";
import { carriesToken } from "./auth.js";
import type { ConnectionLimits } from "./connection-limits.js";
import type { WebWarn } from "./connection-warnings.js";
import { newServerStart, tagsOf } from "./etag.js";
import { EVENT_STREAM_TYPE, EventHub, MAX_EVENT_CLIENTS } from "./events.js";
import { continueOnceChecked } from "./expect-continue.js";
import { httpApp } from "./http-app.js";
import { useJsonBodies } from "./json-body.js";
import { WholeListBody } from "./list-body.js";
import { type HttpBind, httpBind, listenOrRelease } from "./listen.js";
import { type FleetFigures, WebMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { ProblemError, parseQuery } from "./problem.js";
import { refuseQuery } from "./route-check.js";
import { registerRoutes } from "./routes.js";
import { BODY_ROUTES, eventsQuery, QUERY_ROUTES } from "./schemas.js";
import type { FleetKind } from "./shapes.js";
import { publicRoot, staticFile } from "./static.js";

export const BODY_LIMIT_BYTES = 16 * 1024;
/** The Retry-After of a refused event stream (s): the page opens it again then. */
export const EVENTS_RETRY_AFTER_S = 5;

export interface WebServerOptions {
  readonly source: ConsoleSource;
  readonly kind: FleetKind;
  /** Default 127.0.0.1; port 0 picks a free one. */
  readonly host?: string;
  readonly port: number;
  /** Writes always need it; reads too beyond loopback. */
  readonly token: string;
  /**
   * Where a client finds the token, for the 401 of a request without one (default: the URL the
   * server printed, which holds it only when it was shown there).
   */
  readonly tokenFrom?: string;
  /**
   * The event stream's timers (its frames, pings, a virtual run's `clock`): wall time, also for a
   * run on virtual time — the times the frames carry come from `source.now()`, the fleet's clock.
   */
  readonly scheduler: Scheduler;
  /** Figures for `/metrics` beyond the view's (lag, broker, late and lost); optional. */
  readonly figures?: FleetFigures;
  /** The folder of the page's files (default `web/public/` of the package). */
  readonly publicDir?: string;
  /** Bytes an event-stream client may leave unread before it is dropped (default 1 MiB). */
  readonly clientBufferBytes?: number;
  /**
   * Event streams open at once; one more gets 503 (default 100, or half the connections the server
   * keeps open when that is fewer: streams never hold every connection, and requests and scrapes
   * still get in).
   */
  readonly maxEventClients?: number;
  /** The event stream's `: ping` period (default 15 s); a page takes 3 periods of silence as a stream lost. */
  readonly pingMs?: number;
  /** Header and request timeouts, and connections open at once (web/connection-limits.ts). */
  readonly connections?: ConnectionLimits;
  /**
   * Where `host` resolved (httpBind), when the caller looked it up already and judged by it; else
   * `host` is looked up here, with `lookup` (default: the system's).
   */
  readonly bind?: HttpBind;
  readonly lookup?: HostLookup;
  /** Where the WARN lines of clients cut or refused go (web/connection-warnings.ts). */
  readonly warn?: WebWarn;
  /** This server's start, which its nodes' `ETag`s name (web/etag.ts); default: drawn at random. */
  readonly start?: string;
}

export interface WebServer {
  readonly host: string;
  readonly port: number;
  /** `http://HOST:PORT` (an IPv6 host in brackets). */
  readonly origin: string;
  readonly app: FastifyInstance;
  readonly hub: EventHub;
  readonly metrics: WebMetrics;
  /** Every route served, as `METHOD /path/{param}` (what the OpenAPI document must describe). */
  readonly routes: readonly string[];
  close(): Promise<void>;
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const host = o.host ?? "127.0.0.1";
  // Loopback or not by the addresses bound, looked up once, before anything opens.
  const { addresses, loopback } = o.bind ?? (await httpBind(host, o.lookup));
  const { app, connections, routes } = httpApp({
    bodyLimit: BODY_LIMIT_BYTES,
    connections: o.connections,
    scheduler: o.scheduler,
    ...(o.warn ? { warn: o.warn } : {}),
    rules: {
      loopback,
      host,
      token: o.token,
      ...(o.tokenFrom !== undefined ? { tokenFrom: o.tokenFrom } : {}),
    },
  });
  // JSON only: a write in any other type is a 415 (fastify would take text/plain as a string).
  app.removeContentTypeParser("text/plain");
  useJsonBodies(app);
  // `Expect: 100-continue` is answered 100 only once the headers pass every check.
  continueOnceChecked(app, BODY_LIMIT_BYTES);
  // The whole node list, kept as bytes; a stream opened meanwhile is brought forward from it.
  const wholeList = new WholeListBody(o.source, o.scheduler);
  const hub = new EventHub(o.source, o.kind, o.scheduler, {
    bufferBytes: o.clientBufferBytes,
    maxClients: o.maxEventClients ?? Math.min(MAX_EVENT_CLIENTS, Math.floor(connections.cap / 2)),
    pingMs: o.pingMs,
    catchUp: () => wholeList.catchUp(),
  });
  const metrics = new WebMetrics(o.source, o.figures, hub, connections);
  const root = o.publicDir ?? publicRoot();

  // What a route does not read is refused, not ignored: a query parameter of a route that takes none
  // (`/api/fleet?loss=5`, `/metrics?x=1`), a body of a write whose path says it all (a press, a
  // pairing). The page's files ignore their query: a cache buster (`/app/app.js?v=2`) is not a mistake.
  app.addHook("preValidation", async (req) => {
    const url = req.routeOptions.url ?? "";
    if (!isPage(url) && !QUERY_ROUTES.has(url) && !QUERY_ROUTES.has(`${req.method} ${url}`)) refuseQuery(req);
    if (!url.startsWith("/api/")) return;
    if (req.body !== undefined && !BODY_ROUTES.has(url))
      throw new ProblemError(
        400,
        "body: this request takes no body (what it acts on is in its path)",
        "body",
      );
  });

  const page = async (rel: string, reply: import("fastify").FastifyReply) => {
    const f = await staticFile(root, rel);
    if (!f) throw new ProblemError(404, `no file /app/${rel}`);
    return reply.type(f.type).send(f.body);
  };
  app.get("/", async (_req, reply) => page("index.html", reply));
  app.get("/app/*", async (req, reply) => page((req.params as { "*": string })["*"], reply));

  app.get("/api/openapi.json", async () => openApiDocument());
  app.get("/metrics", async (_req, reply) => {
    reply.type(metrics.contentType);
    return metrics.text();
  });
  app.get("/api/events", async (req, reply) => {
    parseQuery(eventsQuery, req.query);
    // A stream with the token (the operator's page sends it) takes the place of the oldest without.
    const trusted = carriesToken(req, o.token);
    if (hub.full && !(trusted && req.method !== "HEAD" && hub.makeRoom())) {
      throw new ProblemError(
        503,
        `${hub.maxClients} event streams are open, the most this server keeps: close a page or retry later`,
        undefined,
        { "retry-after": String(EVENTS_RETRY_AFTER_S) },
      );
    }
    // HEAD (an uptime check) gets the stream's headers and its end: a response to HEAD has no body, so
    // Node sent nothing of the frames, not even the headers, and the request held a stream until the
    // client gave up.
    if (req.method === "HEAD") return reply.type(EVENT_STREAM_TYPE).send();
    reply.hijack();
    hub.attach(reply.raw, trusted);
  });
  registerRoutes(app, {
    source: o.source,
    kind: o.kind,
    wholeList,
    tag: tagsOf(o.start ?? newServerStart()),
  });

  // The hub and the metrics already follow the source (its events, the scheduler's timers): a
  // server that never listened lets go of them, or its process never exits.
  const at = await listenOrRelease(app, host, addresses, o.port, () => {
    hub.close();
    wholeList.close();
    metrics.close();
  });
  let closed: Promise<void> | undefined;
  return {
    host: at.address,
    port: at.port,
    origin: at.origin,
    app,
    hub,
    metrics,
    routes,
    close() {
      closed ??= (async () => {
        hub.close();
        wholeList.close();
        metrics.close();
        await app.close();
      })();
      return closed;
    },
  };
}

/** The page and its files: served whatever their query. */
function isPage(url: string): boolean {
  return url === "/" || url.startsWith("/app/");
}
