/**
 * The OpenAPI 3.1 document served at `/api/openapi.json`: every route of the server, its parameters,
 * bodies (from the zod schemas in schemas.ts), responses and the bearer-token scheme. A test checks
 * that every route the server registers is described here, and nothing else.
 */
import { z } from "zod";
import { VERSION } from "../node/version.js";
import { MAX_ID_LENGTH } from "../protocol/index.js";
import { schemas } from "./openapi-schemas.js";
import { faultBody, lossBody, paceBody, stateBody } from "./schemas.js";

const json = (schema: unknown) => ({ "application/json": { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problems = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: "problem", content: { "application/problem+json": { schema: ref("Problem") } } },
    ]),
  );
const ok = (description: string, schema?: unknown, headers?: unknown) => ({
  description,
  ...(schema ? { content: json(schema) } : {}),
  ...(headers ? { headers } : {}),
});
const etagHeader = {
  ETag: {
    description: "The node's version and the server's start, \"<version>-<start>\"",
    schema: { type: "string" },
  },
};
const ifMatch = {
  name: "If-Match",
  in: "header",
  required: false,
  description:
    "The node's ETag the write is based on; a stale one, or one read before the server started, gets 412",
  schema: { type: "string" },
};
const idParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", pattern: `^[A-Za-z0-9_-]{1,${MAX_ID_LENGTH}}$` },
});
const query = (name: string, schema: unknown, description: string) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});
const body = (schema: z.ZodType) => ({
  required: true,
  content: json(z.toJSONSchema(schema, { io: "input" })),
});
const accepted = { "202": ok("accepted", { type: "object", properties: { accepted: { const: true } } }) };
/**
 * Stored, not carried out yet: a set or a pairing for a node offline (pending until it returns), or a
 * live fleet's pairing stored while its broker is away: what will happen, and the node.
 */
const deferred = {
  "202": ok(
    "stored, not carried out yet: the node is offline (pending until it returns), or a live fleet's broker is away (sent once it is back and the node registers)",
    {
      type: "object",
      required: ["accepted", "deferred", "node"],
      properties: { accepted: { const: true }, deferred: { type: "string" }, node: ref("NodeDetail") },
    },
    etagHeader,
  ),
};
const write = { security: [{ bearer: [] }] };

const paths = {
  "/": { get: { summary: "The page", responses: { "200": { description: "text/html" } } } },
  "/app/{path}": {
    get: {
      summary: "The page's files (web/public/)",
      parameters: [{ name: "path", in: "path", required: true, schema: { type: "string" } }],
      responses: { "200": { description: "a file" }, ...problems(404) },
    },
  },
  "/healthz": {
    get: {
      summary:
        "Whether what is served is current and kept: 503 (detail says why) while a live fleet's broker is not reached yet, silent or lost, or while the twins service's saves fail or stall (its data directory named); 200 `{ ok: true, degraded: [...] }` while only what is not state is not kept (the convergence history's writes failing)",
      responses: { "200": ok("ok, and what is degraded", { type: "object" }), ...problems(503) },
    },
  },
  "/metrics": {
    get: {
      summary: "Prometheus text (docs/metrics.md)",
      responses: { "200": { description: "text/plain" }, ...problems(401) },
    },
  },
  "/api/openapi.json": { get: { summary: "This document", responses: { "200": ok("OpenAPI 3.1") } } },
  "/api/fleet": {
    get: { summary: "The fleet", responses: { "200": ok("the fleet", ref("Fleet")), ...problems(401) } },
  },
  "/api/nodes": {
    get: {
      summary: "List nodes, filtered and paged",
      parameters: [
        query("q", { type: "string", maxLength: 64 }, "id substring"),
        query("kind", { enum: ["real", "sim", "host", "unknown"] }, "node kind"),
        query("online", { enum: ["true", "false"] }, "online or not"),
        query("sync", { enum: ["in-sync", "out-of-sync", "unknown"] }, "sync status"),
        query("offset", { type: "integer", minimum: 0 }, "first node of the page (default 0)"),
        query("limit", { type: "integer", minimum: 0, maximum: 100000 }, "nodes in the page (default all)"),
      ],
      responses: {
        "200": ok("a page of nodes", {
          type: "object",
          properties: {
            total: { type: "integer" },
            offset: { type: "integer" },
            nodes: { type: "array", items: ref("NodeSummary") },
          },
        }),
        ...problems(400, 401),
      },
    },
  },
  "/api/nodes/{id}": {
    get: {
      summary: "One node",
      parameters: [idParam("id", "node id")],
      responses: { "200": ok("the node", ref("NodeDetail"), etagHeader), ...problems(400, 401, 404) },
    },
    delete: {
      summary:
        "Forget a retired node: its followers unpaired, its retained status, config and report cleared, its twin dropped (twinfleet twins only)",
      ...write,
      parameters: [
        idParam("id", "node id"),
        ifMatch,
        query(
          "force",
          { enum: ["true", "false"] },
          "forget it even while it is shown online (default false)",
        ),
      ],
      responses: {
        "200": ok("what was done", {
          type: "object",
          required: ["forgotten", "node", "unpaired", "cleared"],
          properties: {
            forgotten: { const: true },
            node: { type: "string" },
            unpaired: { type: "array", items: { type: "string" }, description: "its followers, unpaired" },
            cleared: { type: "array", items: { type: "string" }, description: "the retained topics cleared" },
            deferred: { type: "string", description: "unpairings stored while the broker went away" },
          },
        }),
        // 409: the node is online (without force); 503: the broker is away, nothing was changed.
        // 507: done in memory, but the service's store cannot be written (a full disk): not kept.
        ...problems(400, 401, 403, 404, 409, 412, 503, 507),
      },
    },
  },
  "/api/nodes/{id}/state": {
    put: {
      summary: "Set the node on or off (the reported state follows when the node applies it)",
      ...write,
      parameters: [idParam("id", "node id"), ifMatch],
      requestBody: body(stateBody),
      responses: {
        "200": ok("the node", ref("NodeDetail"), etagHeader),
        // 202: the node is offline; the set is kept and sent when it registers again.
        ...deferred,
        // 503: a live fleet's broker is not reachable; the set was not sent (nor will it be).
        // 507: the set is held in memory, but the store cannot be written (a full disk): a restart loses it.
        ...problems(400, 401, 403, 404, 412, 413, 415, 503, 507),
      },
    },
  },
  "/api/nodes/{id}/follows/{source}": {
    put: {
      summary: "The node follows source",
      ...write,
      parameters: [idParam("id", "the follower"), idParam("source", "the source"), ifMatch],
      responses: {
        "200": ok("the follower", ref("NodeDetail"), etagHeader),
        ...deferred,
        ...problems(400, 401, 403, 404, 412, 507),
      },
    },
    delete: {
      summary: "The node no longer follows source",
      ...write,
      parameters: [idParam("id", "the follower"), idParam("source", "the source"), ifMatch],
      responses: {
        "200": ok("the follower", ref("NodeDetail"), etagHeader),
        ...deferred,
        ...problems(400, 401, 403, 404, 412, 507),
      },
    },
  },
  "/api/nodes/{id}/press": {
    post: {
      summary: "Press the node's button (a simulated node)",
      ...write,
      parameters: [idParam("id", "node id")],
      responses: { ...accepted, ...problems(400, 401, 403, 404) },
    },
  },
  "/api/convergence": {
    get: {
      summary: "Convergence now and over time",
      responses: { "200": ok("convergence", ref("Convergence")), ...problems(401) },
    },
  },
  "/api/convergence/minutes": {
    get: {
      summary:
        "Convergence over the last 48 h: each minute's lowest in-sync share, fewest followers online, broker away, twins service not running",
      responses: {
        "200": ok("the convergence history's long tier", ref("ConvergenceMinutes")),
        ...problems(401, 404),
      },
    },
  },
  "/api/latency": {
    get: { summary: "Sync latency", responses: { "200": ok("latency", ref("Latency")), ...problems(401) } },
  },
  "/api/fleet/loss": {
    post: {
      summary: "Set the packet loss of a simulated fleet's links",
      ...write,
      requestBody: body(lossBody),
      responses: { "200": ok("the fleet", ref("Fleet")), ...problems(400, 401, 403, 413, 415) },
    },
  },
  "/api/fleet/pace": {
    post: {
      summary: "Pause, resume or change the speed of a run on virtual time (what is left out stays)",
      ...write,
      requestBody: body(paceBody),
      responses: { "200": ok("the fleet", ref("Fleet")), ...problems(400, 401, 403, 413, 415) },
    },
  },
  "/api/fleet/faults": {
    post: {
      summary: "Start a fault now (power outage, broker restart, partition)",
      ...write,
      requestBody: body(faultBody),
      responses: { ...accepted, ...problems(400, 401, 403, 413, 415) },
    },
  },
  "/api/query": {
    post: {
      summary: "Publish Q1: every live node answers",
      ...write,
      responses: { ...accepted, ...problems(401, 403, 503) },
    },
  },
  "/api/events": {
    get: {
      summary: "Server-sent events: hello, nodes, convergence, latency, fleet, clock (virtual time), log",
      parameters: [
        query(
          "token",
          { type: "string" },
          "the bearer token, for an EventSource (no headers); proxies log it",
        ),
      ],
      responses: { "200": { description: "text/event-stream" }, ...problems(400, 401, 503) },
    },
  },
};

let cached: unknown;

export function openApiDocument(): unknown {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "twinfleet control server",
      version: VERSION,
      description:
        "The fleet's nodes, their state and pairing, convergence and latency, and a simulated fleet's faults. Writes need a bearer token; reads too beyond loopback. Errors are application/problem+json. Any request from an address beyond loopback may be answered 429 with Retry-After: more than 32 connections open at once from it, or more than 20 requests a second (bursts of 100); the page's files (GET / and /app/*) have a bound of their own, 40 a second (bursts of 400).",
    },
    components: { schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
  return cached;
}
