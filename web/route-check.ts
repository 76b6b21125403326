/**
 * The checks both web servers (the fleet's, web/server.ts, and the broker's, web/broker-server.ts)
 * make of every request before it reaches a route, in one order: a request target of a form the
 * server takes (400), a loopback Host name on a loopback bind (403), a path served here (404) and a
 * method it takes (405, with Allow), then the token (401) — a wrong path or method is wrong whoever
 * asks — and, once routed, a query parameter the route does not read (400 naming it). `OPTIONS *`,
 * which asks what the server takes (RFC 9110 §9.3.7), is answered once the Host is judged: 204 with
 * the methods of every route in `Allow`.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { shown } from "../protocol/shown.js";
import { authorize, checkHost, fromLoopback, isProxied } from "./auth.js";
import { ProblemError, parameterName } from "./problem.js";

/** A request target in absolute form (RFC 9112 §3.2.2): `http://host:port/path`. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * What is wrong with a request's target (RFC 9112 §3.2), or undefined: `*` (the asterisk form) is for
 * OPTIONS only (§3.2.4), a target is otherwise a path (`/…`) or a whole URL, and it holds no fragment:
 * `#…` is the browser's own and never sent (RFC 9110 §7.1), and no form of target may hold a `#`. The
 * router read `GET *` as `/` (it served the page) and a `#` as the start of the query
 * (`/api/nodes#x` was `query.x: is not a parameter`, `/api/nodes?q=n-0#x` searched for `n-0#x`).
 */
export function targetProblem(method: string, target: string): ProblemError | undefined {
  if (target === "*")
    return method === "OPTIONS"
      ? undefined
      : new ProblemError(
          400,
          `request target: * (the asterisk form) is for OPTIONS only (RFC 9112 §3.2.4); ${method} names a path, e.g. ${method} /`,
          "target",
        );
  const hash = target.indexOf("#");
  if (hash >= 0)
    return new ProblemError(
      400,
      `request target: ${shown(target)} holds a fragment (${shown(target.slice(hash))}), which a client never sends (RFC 9110 §7.1): send the target without it (a # in a value is %23)`,
      "target",
    );
  if (!target.startsWith("/") && !ABSOLUTE_FORM.test(target))
    return new ProblemError(
      400,
      `request target: ${shown(target)} is neither a path (/…) nor a whole URL (RFC 9112 §3.2); e.g. ${method} /`,
      "target",
    );
  return undefined;
}

/** Throws what is wrong with the request's target as the client sent it (targetProblem). */
export function checkTarget(req: FastifyRequest): void {
  const wrong = targetProblem(req.method, req.raw.url ?? "");
  if (wrong !== undefined) throw wrong;
}

/** Every route `app` serves, as `METHOD /path/{param}`, filled in as routes are added. */
export function routeList(app: FastifyInstance): string[] {
  const routes: string[] = [];
  app.addHook("onRoute", (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}").replace(/\*$/, "{path}");
    for (const m of methods) if (m !== "HEAD") routes.push(`${m} ${path}`);
  });
  return routes;
}

/** The methods `routes` (`METHOD /path/{param}`) serve at `path`, HEAD with GET; empty when none. */
export function methodsAt(routes: readonly string[], path: string): string[] {
  const methods = new Set<string>();
  for (const r of routes) {
    const [method = "", pattern = ""] = r.split(" ");
    const re = new RegExp(
      `^${pattern
        .replace(/[.*+?^$()|[\]\\]/g, "\\$&")
        .replace(/\{path\}/g, ".*")
        .replace(/\{[A-Za-z]+\}/g, "[^/]+")}$`,
    );
    if (re.test(path)) methods.add(method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

/**
 * The methods the server takes on some path, for the `Allow` of `OPTIONS *`: those of `routes`, HEAD
 * with GET, and OPTIONS, which it takes on `*` alone.
 */
export function serverMethods(routes: readonly string[]): string {
  const methods = new Set<string>(["OPTIONS"]);
  for (const r of routes) methods.add(r.split(" ")[0] ?? "");
  if (methods.has("GET")) methods.add("HEAD");
  methods.delete("");
  return [...methods].sort().join(", ");
}

/** 404 for a path not served, 405 (with Allow) for a method the path does not take; else undefined. */
export function routeProblem(
  routes: readonly string[],
  method: string,
  url: string,
  /** Said after a 404 (`this broker serves /metrics and /healthz`). */
  servedHint?: string,
): ProblemError | undefined {
  const path = url.split("?")[0] ?? "";
  const allowed = methodsAt(routes, path);
  if (allowed.length === 0)
    return new ProblemError(404, `no route ${method} ${path}${servedHint ? `: ${servedHint}` : ""}`);
  if (allowed.includes(method)) return undefined;
  const allow = allowed.join(", ");
  return new ProblemError(405, `${method} is not allowed on ${path}; allowed: ${allow}`, undefined, {
    allow,
  });
}

export interface RequestRules {
  readonly routes: readonly string[];
  /**
   * The server listens on loopback only (every address bound is): reads need no token, Host names
   * must be loopback ones or `host`.
   */
  readonly loopback: boolean;
  /** The host the server was told to listen on (a name resolving to loopback alone is a loopback name here). */
  readonly host?: string;
  readonly token: string;
  /** Where a client finds the token, for the 401 without one. */
  readonly tokenFrom?: string;
  readonly servedHint?: string;
}

/**
 * The target's form, Host, then path and method, then the token: throws the first that is wrong. A proxied request
 * (auth.ts, isProxied) is judged as one from beyond loopback, on any bind. Returns `"server-options"`
 * for `OPTIONS *` with a Host that passes: it asks about the server, not a path, and is answered
 * whoever asks, like a 405's `Allow` (no route serves it: it was `404 no route OPTIONS *`).
 */
export function checkRequest(req: FastifyRequest, rules: RequestRules): "server-options" | undefined {
  checkTarget(req);
  const local = rules.loopback && !isProxied(req) && fromLoopback(req);
  checkHost(req, local, rules.host);
  if (req.method === "OPTIONS" && req.raw.url === "*") return "server-options";
  // A request fastify routed has a path and method served here: the route list is matched (a
  // pattern compiled per route) only for the rest, not on every request.
  const wrong = req.is404 ? routeProblem(rules.routes, req.method, req.url, rules.servedHint) : undefined;
  if (wrong !== undefined) throw wrong;
  authorize(req, rules.token, local, rules.tokenFrom);
  return undefined;
}

/**
 * A query parameter of a route that reads none is refused, not ignored (`/metrics?format=json`,
 * `/api/fleet?loss=5`): the client meant something the server would not do.
 */
export function refuseQuery(req: FastifyRequest): void {
  const key = Object.keys((req.query as Record<string, unknown> | undefined) ?? {})[0];
  if (key === undefined) return;
  const name = parameterName(key);
  throw new ProblemError(
    400,
    `query.${name}: is not a parameter of this request (it takes none)`,
    `query.${name}`,
  );
}
