/**
 * The HTTP side of a standalone broker (`twinfleet broker --http`): `GET /metrics` (Prometheus text,
 * web/broker-metrics.ts) and `GET /healthz` (200 while it listens and its store answers, else 503
 * naming what is wrong). The same rules as the web control server: the bearer token beyond loopback
 * (web/auth.ts, `/healthz` public), loopback Host names only on a loopback bind, every error as
 * problem+json (web/problem.ts), 404 for another path and 405 for another method.
 */
import Fastify from "fastify";
import type { BrokerFigures } from "../broker/index.js";
import { authorize, checkHost, isLoopbackHost } from "./auth.js";
import { BrokerMetrics } from "./broker-metrics.js";
import { listenOrRelease } from "./listen.js";
import { clientError, ProblemError, problem, problemOf, sendProblem } from "./problem.js";

export interface BrokerHttpOptions {
  readonly figures: BrokerFigures;
  /** Default 127.0.0.1; port 0 picks a free one. */
  readonly host?: string;
  readonly port: number;
  /** Needed by every read beyond loopback (`/healthz` excepted). */
  readonly token: string;
}

export interface BrokerHttpServer {
  readonly port: number;
  /** `http://HOST:PORT` (an IPv6 host in brackets). */
  readonly origin: string;
  close(): Promise<void>;
}

const ROUTES = new Set(["/metrics", "/healthz"]);

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

/** 405 (with Allow) for another method on a path served here, 404 for any other path. */
function notServed(method: string, url: string): ProblemError {
  const path = url.split("?")[0] ?? "";
  if (ROUTES.has(path))
    return new ProblemError(405, `${method} ${path}: only GET (and HEAD) are served here`, undefined, {
      allow: "GET, HEAD",
    });
  return new ProblemError(404, `no route ${method} ${path}: this broker serves /metrics and /healthz`);
}

export async function startBrokerHttp(o: BrokerHttpOptions): Promise<BrokerHttpServer> {
  const host = o.host ?? "127.0.0.1";
  const loopback = isLoopbackHost(host);
  const app = Fastify({ logger: false, return503OnClosing: true, clientErrorHandler: clientError });
  const metrics = new BrokerMetrics(o.figures);
  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("cache-control", "no-store");
    checkHost(req, loopback);
    // Nothing here writes: another method is refused before the token is asked for.
    if (req.method !== "GET" && req.method !== "HEAD") throw notServed(req.method, req.url);
    authorize(
      req,
      o.token,
      loopback,
      "the token given with --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN",
    );
  });
  app.setErrorHandler((error, req, reply) => {
    const p = problemOf(error as Error, req);
    return sendProblem(reply, p, error instanceof ProblemError ? error.headers : {});
  });
  app.setNotFoundHandler((req) => {
    throw notServed(req.method, req.url);
  });
  app.get("/metrics", async (_req, reply) => {
    reply.type(metrics.contentType);
    return metrics.text();
  });
  app.get("/healthz", async (_req, reply) => {
    const health = brokerHealth(o.figures);
    if (health.ok) return health.body;
    return sendProblem(reply, problem(503, health.detail));
  });
  const at = await listenOrRelease(app, host, o.port, () => metrics.close());
  let closed: Promise<void> | undefined;
  return {
    port: at.port,
    origin: at.origin,
    close() {
      closed ??= (async () => {
        metrics.close();
        await app.close();
      })();
      return closed;
    },
  };
}
