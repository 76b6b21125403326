/**
 * What both web servers are built on — the fleet's (web/server.ts) and a standalone broker's
 * (web/broker-server.ts) — so that they cannot drift apart: fastify with the connection limits and
 * the counts `/metrics` reads of them (web/connection-limits.ts), each request checked before it is
 * routed (web/route-check.ts), and every error as problem+json (web/problem.ts): Node's parser's,
 * fastify's own before routing (a path that is not valid percent-encoding, which the broker's server
 * answered in fastify's own JSON shape), the handlers', and a path not served.
 */
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { shown } from "../protocol/shown.js";
import {
  answerTurn,
  type ConnectionCounts,
  type ConnectionLimits,
  limitConnections,
  MAX_UNANSWERED,
  refusalOf,
  skipRequest,
  timeoutOptions,
} from "./connection-limits.js";
import { ConnectionWarnings, type WebWarn } from "./connection-warnings.js";
import { clientError, ProblemError, problemOf, sendProblem } from "./problem.js";
import {
  checkRequest,
  type RequestRules,
  routeList,
  routeProblem,
  serverMethods,
  targetProblem,
} from "./route-check.js";

export interface HttpAppOptions {
  /** The largest body taken (fastify's default, 1 MiB, where none is given). */
  readonly bodyLimit?: number;
  /** Header and request timeouts, and connections open at once. */
  readonly connections?: ConnectionLimits;
  /** The clock of the per-address bounds and the WARN lines' window (default: wall time). */
  readonly scheduler?: Scheduler;
  /** Where the WARN lines of clients cut or refused go (web/connection-warnings.ts); default nowhere. */
  readonly warn?: WebWarn;
  /** The rules each request is checked by (the routes are the app's own, filled in as they are added). */
  readonly rules: Omit<RequestRules, "routes">;
}

export interface HttpApp {
  readonly app: FastifyInstance;
  /** What the connection cap did, for `/metrics`. */
  readonly connections: ConnectionCounts;
  /** Every route served, as `METHOD /path/{param}`, filled in as routes are added. */
  readonly routes: readonly string[];
}

/** A fastify app with the rules both servers share; its routes are the caller's to add. */
export function httpApp(o: HttpAppOptions): HttpApp {
  const app = Fastify({
    ...(o.bodyLimit !== undefined ? { bodyLimit: o.bodyLimit } : {}),
    ...timeoutOptions(o.connections),
    logger: false,
    return503OnClosing: true,
    clientErrorHandler: clientError,
    // A path that is not valid percent-encoding (`/api/nodes/%ff`) is refused before routing; a
    // target of the wrong form (`GET *?x=1`) is named as such first.
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) =>
      sendProblem(reply, problemOf(targetProblem(req.method, req.raw.url ?? "") ?? error, req)),
  });
  const scheduler = o.scheduler ?? new RealScheduler();
  const warnings =
    o.warn && new ConnectionWarnings(scheduler, o.warn, o.connections?.maxUnanswered ?? MAX_UNANSWERED);
  if (warnings) app.addHook("onClose", async () => warnings.stop());
  const connections = limitConnections(app.server, o.connections, {
    scheduler,
    ...(warnings ? { warnings } : {}),
  });
  // A request with an `Expect:` other than 100-continue: Node answered it 417 by itself, outside the
  // server's requests, so past the bound on requests sent ahead of their answers (150 connections of
  // 1,200 such requests each, never read, held 6 MB of 417s). It is the server's request now, bounded
  // and answered in turn like any other, as problem+json.
  app.server.on("checkExpectation", (req, res) => app.server.emit("request", req, res));
  const routes = routeList(app);
  app.addHook("onRequest", async (req, reply) => {
    // A request sent ahead of the answer before it is answered once the client has read that one.
    await answerTurn(reply.raw);
    if (skipRequest(req.raw)) {
      reply.hijack();
      return reply;
    }
    reply.header("x-content-type-options", "nosniff");
    reply.header("cache-control", "no-store");
    // Past its address's bound (web/address-bounds.ts): refused, and the connection closed after
    // (a trusted proxy's kept, as it carries other clients' requests).
    const refusal = refusalOf(req.raw);
    if (refusal !== undefined)
      throw new ProblemError(429, refusal.detail, undefined, {
        "retry-after": String(refusal.retryAfterS),
        ...(refusal.via === undefined ? { connection: "close" } : {}),
      });
    const expectation = unknownExpectation(req.headers.expect);
    if (expectation !== undefined) throw new ProblemError(417, expectation, "expect");
    // OPTIONS * (RFC 9110 §9.3.7): what the server takes, answered here, as no route serves `*`.
    if (checkRequest(req, { ...o.rules, routes }) === "server-options")
      return reply.code(204).header("allow", serverMethods(routes)).send();
  });
  app.setErrorHandler((error, req, reply) => {
    const p = problemOf(error as Error, req);
    return sendProblem(reply, p, error instanceof ProblemError ? error.headers : {});
  });
  // checkRequest answered every path or method not served already; this is the backstop.
  app.setNotFoundHandler((req) => {
    throw (
      routeProblem(routes, req.method, req.url, o.rules.servedHint) ??
      new ProblemError(404, `no route ${req.method} ${req.url}`)
    );
  });
  return { app, connections, routes };
}

/**
 * What is wrong with an `Expect:` header, or undefined when there is none or it is 100-continue (as
 * Node tells them apart: web/expect-continue.ts answers that one).
 */
export function unknownExpectation(expect: string | undefined): string | undefined {
  if (expect === undefined || /(?:^|\W)100-continue(?:$|\W)/i.test(expect)) return undefined;
  return `expect: this server meets only "Expect: 100-continue", not ${shown(expect)}`;
}
