/**
 * Errors as `application/problem+json` (RFC 9457): `{ type, title, status, detail, field? }`, where
 * `detail` says what is wrong and `field` names the body, query or path field at fault. Every 4xx and
 * 5xx the server sends goes through here, fastify's own (bad JSON, body too large) included, and
 * Node's for a request it cannot parse (headers too large, a malformed request, a request too slow).
 */
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { ZodError, ZodType } from "zod";
import { shown } from "../protocol/shown.js";
import { CommandRefused, CommandUnavailable } from "../view/source.js";
import { BODY_ROUTES } from "./schemas.js";

export const PROBLEM_TYPE = "application/problem+json";

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  408: "Request Timeout",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly field?: string;
}

/** Thrown by a handler; the error handler sends it as problem+json. */
export class ProblemError extends Error {
  override readonly name = "ProblemError";
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly field?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

export function problem(status: number, detail: string, field?: string): Problem {
  return {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail,
    ...(field !== undefined ? { field } : {}),
  };
}

export function sendProblem(reply: FastifyReply, p: Problem, headers: Readonly<Record<string, string>> = {}) {
  return reply.code(p.status).headers(headers).type(PROBLEM_TYPE).send(JSON.stringify(p));
}

/**
 * The first issue of a zod error as a 400 naming `where.path` (e.g. `body.on`, `query.limit`). zod's
 * own wording for what no schema words itself (`Invalid input: expected object, received undefined`)
 * is put in the API's: a field that is missing, given twice, of the wrong type, or not one of the
 * request's (then the field is the unknown one: `body.colour: is not a field of this request`).
 */
export function fromZod(where: "body" | "query" | "path", e: ZodError): ProblemError {
  // A field the request does not have first: `{"On":true}` is a typo of on, more than on missing.
  const issue = e.issues.find((i) => i.code === "unrecognized_keys") ?? e.issues[0];
  const path = issue?.path.map(String) ?? [];
  const unknown = issue?.code === "unrecognized_keys" ? issue.keys[0] : undefined;
  if (unknown !== undefined) path.push(where === "query" ? parameterName(unknown) : unknown);
  const field = path.length === 0 ? where : `${where}.${path.join(".")}`;
  return new ProblemError(400, `${field}: ${issue ? issueText(where, issue) : "is not valid"}`, field);
}

/**
 * A query parameter's name as a problem shows it: as it is when it is a plain name, else quoted and
 * cut short (`query."kkkk…"`, `query.""` for `?=1`, which read `query.`).
 */
export function parameterName(key: string): string {
  return /^[A-Za-z0-9_.[\]-]{1,60}$/.test(key) ? key : shown(key);
}

/**
 * A query checked against its schema: a parameter given more than once is said so first, whatever
 * its type — an enum's or a flag's own message (`query.kind: must be real, sim, host or unknown`)
 * read as if `kind=sim&kind=sim` held a bad value.
 */
export function parseQuery<T>(schema: ZodType<T>, query: unknown): T {
  for (const [name, value] of Object.entries(query ?? {}))
    if (Array.isArray(value)) {
      const field = `query.${parameterName(name)}`;
      throw new ProblemError(400, `${field}: is given more than once`, field);
    }
  const r = schema.safeParse(query ?? {});
  if (!r.success) throw fromZod("query", r.error);
  return r.data;
}

type Issue = ZodError["issues"][number];

function issueText(where: "body" | "query" | "path", issue: Issue): string {
  if (issue.code === "unrecognized_keys")
    return `is not a ${where === "query" ? "parameter" : "field"} of this request`;
  // A schema's own message stands; zod's defaults begin "Invalid input" or "Too big"/"Too small".
  if (!/^(Invalid|Too |Unrecognized)/.test(issue.message)) return issue.message;
  if (issue.code === "invalid_type") {
    const got = / received (\w+)/.exec(issue.message)?.[1];
    if (got === "undefined")
      return issue.path.length === 0 && where === "body" ? "is missing: send a JSON object" : "is missing";
    if (got === "array" && where === "query") return "is given more than once";
    return `must be ${article(issue.expected)}${got ? `, not ${article(got)}` : ""}`;
  }
  return issue.message.replace(/^Invalid input: /, "");
}

const article = (type: string) =>
  type === "null" ? "null" : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;

/** fastify's own errors (bad JSON, too large, wrong media type) and ours, as problems. */
export function problemOf(error: FastifyError | ProblemError | Error, req: FastifyRequest): Problem {
  if (error instanceof ProblemError) return problem(error.status, error.detail, error.field);
  // A command the fleet refuses as it stands (a pairing that is not there): the caller's to change.
  if (error instanceof CommandRefused) return problem(409, error.message);
  // A command the fleet cannot take now (a live fleet's broker not reachable): not the caller's doing.
  if (error instanceof CommandUnavailable) return problem(503, error.message);
  const code = (error as FastifyError).code;
  const status = (error as FastifyError).statusCode ?? 500;
  if (code === "FST_ERR_CTP_BODY_TOO_LARGE") return problem(413, "the body is larger than 16 KiB", "body");
  if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
    return problem(
      415,
      `body: is ${req.headers["content-type"] ?? "of no content type"}; send application/json`,
      "body",
    );
  if (code === "FST_ERR_CTP_EMPTY_JSON_BODY")
    return BODY_ROUTES.has(req.routeOptions?.url ?? "")
      ? problem(400, "body: is empty; send a JSON object", "body")
      : problem(
          400,
          "body: is empty, yet Content-Type says JSON: this request takes no body, send none",
          "body",
        );
  if (code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError)
    return problem(400, `body: is not JSON (${error.message})`, "body");
  if (code === "FST_ERR_MAX_PARAM_LENGTH")
    return problem(414, "path: a part of it is longer than 100 characters, longer than any node id", "path");
  if (code === "FST_ERR_BAD_URL")
    return problem(400, "path: is not valid percent-encoded UTF-8 (each %XX must form UTF-8 text)", "path");
  if (status >= 400 && status < 500) return problem(status, error.message);
  return problem(500, "the server failed to answer; see its log");
}

/**
 * A request Node's parser refused before any route saw it (fastify's `clientErrorHandler`): answered
 * as a problem like every other error (fastify's default is its own JSON shape), then closed.
 */
export function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const p =
    err.code === "HPE_HEADER_OVERFLOW"
      ? problem(431, "the request line and headers are larger than the server takes (16 KiB)")
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? problem(408, "the request did not arrive in time")
        : problem(400, `the request is not HTTP the server can parse (${err.code ?? err.message})`);
  const body = JSON.stringify(p);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${p.status} ${p.title}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
