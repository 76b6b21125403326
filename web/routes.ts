/**
 * The REST API over the fleet view: list and read nodes, set a node's state, pair and unpair, press,
 * loss and faults, a virtual-time run's pace, query, convergence and latency. Input is parsed with
 * the zod schemas (a 400 naming the field); writes may carry the node's `ETag` as `If-Match` (a 412 when
 * the node moved on since, or the tag was read before the server started: web/etag.ts; the writes to one node are taken one at a time); an action the fleet does not offer is a 403; a command a live fleet's broker
 * cannot take now a 503, a pairing stored until it is back a 202. Responses carry the node's `ETag`.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodType } from "zod";
import { SerialByKey } from "../node/serial-by-key.js";
import type { NodeId } from "../protocol/index.js";
import { shown } from "../protocol/shown.js";
import { type Capability, type CommandDeferred, CommandRefused, type ConsoleSource } from "../view/source.js";
import type { TagOf } from "./etag.js";
import type { WholeListBody } from "./list-body.js";
import { fromZod, ProblemError, parseQuery } from "./problem.js";
import {
  faultBody,
  followParams,
  forgetQuery,
  lossBody,
  nodeParams,
  nodesQuery,
  paceBody,
  stateBody,
} from "./schemas.js";
import {
  convergenceOf,
  detailOf,
  type FleetKind,
  fleetOf,
  latencyOf,
  minutesOf,
  type NodeDetail,
  summaryJson,
} from "./shapes.js";

export interface RouteContext {
  readonly source: ConsoleSource;
  readonly kind: FleetKind;
  /** `GET /api/nodes` without a filter, kept as bytes (list-body.ts). */
  readonly wholeList: WholeListBody;
  /** The nodes' entity tags, which name this server's start (web/etag.ts). */
  readonly tag: TagOf;
}

function parse<T>(schema: ZodType<T>, where: "body" | "query" | "path", value: unknown): T {
  if (where === "query") return parseQuery(schema, value);
  const r = schema.safeParse(value ?? (where === "body" ? undefined : {}));
  if (!r.success) throw fromZod(where, r.error);
  return r.data;
}

function need(source: ConsoleSource, cap: Capability | "partition"): void {
  if (source.capabilities[cap] !== true)
    throw new ProblemError(403, `${cap} is not available for this fleet`);
}

/** The node's detail, or a 404 naming the path field that named it (`path.id`, `path.source`). */
function detailOrThrow(source: ConsoleSource, id: NodeId, field = "path.id"): NodeDetail {
  const d = source.detail(id);
  if (!d) throw new ProblemError(404, `no node ${id} in this fleet`, field);
  return detailOf(d);
}

/** One element of If-Match's list and the comma after it (or the end): a tag, `*`, or nothing. */
const IF_MATCH_ELEMENT = /[\t ]*((?:W\/)?"[\x21\x23-\x7e]*"|\*)?[\t ]*(?:,|$)/y;

/**
 * `*`, or the list of entity tags (`"3"`, `W/"3"`), as RFC 9110 §13.1.1 writes If-Match; undefined
 * when it is neither. Empty elements are skipped, as §5.6.1 has a recipient do: `"3",` and `, "3"`
 * (a list put together by a script or a proxy) were refused as not entity tags.
 */
function ifMatchTags(h: string): string[] | undefined {
  const tags: string[] = [];
  IF_MATCH_ELEMENT.lastIndex = 0;
  while (IF_MATCH_ELEMENT.lastIndex < h.length) {
    const at = IF_MATCH_ELEMENT.lastIndex;
    const m = IF_MATCH_ELEMENT.exec(h);
    if (m === null || IF_MATCH_ELEMENT.lastIndex === at) return undefined;
    if (m[1] !== undefined) tags.push(m[1]);
  }
  if (tags.length === 0 || (tags.includes("*") && tags.length > 1)) return undefined;
  return tags;
}

/**
 * A 400 when `If-Match` is not `*` or entity tags; a 412 unless it is absent, `*`, or names the node's
 * current version (compared strongly: a weak tag `W/"3"` never matches, RFC 9110 §13.1.1).
 */
function checkIfMatch(req: FastifyRequest, current: NodeDetail, etag: TagOf): void {
  const h = req.headers["if-match"];
  if (h === undefined) return;
  const tags = ifMatchTags(h);
  if (tags === undefined)
    throw new ProblemError(
      400,
      `If-Match: must be * or the node's ETag in quotes (e.g. ${etag(current.version)}), not ${shown(h)}`,
      "If-Match",
    );
  if (tags.includes("*") || tags.includes(etag(current.version))) return;
  throw new ProblemError(
    412,
    `node ${current.id} is at version ${current.version}, not ${h.length > 40 ? `${h.slice(0, 40)}…` : h.trim()}: read it again and retry`,
    "If-Match",
    { etag: etag(current.version) },
  );
}

/**
 * Runs a command; the fleet's refusal (a pairing not there) is a 409 naming `field` (and the fleet
 * unable to take it now, a 503: problem.ts). Resolves to what the fleet will do later, if it deferred it.
 */
async function command<T>(field: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CommandRefused) throw new ProblemError(409, e.message, field);
    throw e;
  }
}

function sendDetail(reply: FastifyReply, d: NodeDetail, etag: TagOf) {
  return reply.header("etag", etag(d.version)).send(d);
}

/**
 * The node after a command: 200 with it; or, stored and not sent yet (the node offline, a live
 * fleet's broker away), 202 saying what will happen, with the node.
 */
function sendAfter(reply: FastifyReply, d: NodeDetail, later: CommandDeferred | undefined, etag: TagOf) {
  if (later === undefined) return sendDetail(reply, d, etag);
  return reply
    .code(202)
    .header("etag", etag(d.version))
    .send({ accepted: true, ...later, node: d });
}

/**
 * A 507 when what a write changed could not be stored (a full or read-only disk): it is carried out in
 * memory only, and the service's next start loses it. It was answered 200 or 202 (`kept and sent
 * when it registers again`) all the same, and a kill -9 or a reboot before the disk had room lost
 * it with nothing said to the caller. The problem says what was done and why it is not stored.
 */
async function savedOrThrow(
  source: ConsoleSource,
  what: string,
  version: number,
  etag: TagOf,
  later?: CommandDeferred,
) {
  const why = await source.written?.();
  if (why === undefined) return;
  const kept = later === undefined ? "" : ` (${later.deferred})`;
  throw new ProblemError(
    507,
    `${what}${kept} is carried out in memory only: ${why}; a restart of the service now loses it: free space on the disk (or make it writable), and send it again once the service has saved again`,
    undefined,
    { etag: etag(version) },
  );
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { source, kind, wholeList, tag } = ctx;
  // One write at a time per node: a write's If-Match is checked once the write before it is done, as a
  // command moves the version only once it has gone out (a set after the broker's PUBACK); ten PUTs
  // with one If-Match sent at once were each checked before any had moved it, and up to eight got 200.
  const writes = new SerialByKey<string>();

  // 503 while what is served is not current (a live fleet's broker not reached yet, silent, lost)
  // or not kept; 200 with `degraded` while only what is not state is not kept (the chart's history).
  app.get("/healthz", async () => {
    const problem = source.health?.();
    if (problem !== undefined) throw new ProblemError(503, problem);
    const degraded = source.degraded?.() ?? [];
    return degraded.length === 0 ? { ok: true } : { ok: true, degraded };
  });

  app.get("/api/fleet", async () => fleetOf(source, kind));

  // A script that changed a node and reads the list next sees the change (the list may be kept 1 s).
  app.addHook("onSend", async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") wholeList.written();
  });
  app.get("/api/nodes", async (req, reply) => {
    const q = parse(nodesQuery, "query", req.query);
    if (Object.values(q).every((v) => v === undefined))
      return reply.type("application/json; charset=utf-8").send(wholeList.get());
    const all = source.nodes();
    const hit = all.filter(
      (n) =>
        (q.q === undefined || n.id.includes(q.q)) &&
        (q.kind === undefined || (n.kind ?? "unknown") === q.kind) &&
        (q.online === undefined || n.online === q.online) &&
        (q.sync === undefined || n.sync === q.sync),
    );
    const offset = q.offset ?? 0;
    const page = hit.slice(offset, q.limit === undefined ? undefined : offset + q.limit);
    // The same JSON as { total, offset, nodes: page.map(summaryOf) }, from each node's kept text.
    const body = `{"total":${hit.length},"offset":${offset},"nodes":[${page.map(summaryJson).join(",")}]}`;
    return reply.type("application/json; charset=utf-8").send(body);
  });

  app.get("/api/nodes/:id", async (req, reply) => {
    const { id } = parse(nodeParams, "path", req.params);
    source.focus?.(id as NodeId);
    return sendDetail(reply, detailOrThrow(source, id as NodeId), tag);
  });

  app.put("/api/nodes/:id/state", async (req, reply) => {
    const { id } = parse(nodeParams, "path", req.params);
    const body = parse(stateBody, "body", req.body);
    need(source, "set");
    return writes.run(id, async () => {
      checkIfMatch(req, detailOrThrow(source, id as NodeId), tag);
      // The node offline: the set is kept and sent when it registers again (202).
      const later = await source.set(id as NodeId, body.on);
      const d = detailOrThrow(source, id as NodeId);
      await savedOrThrow(source, `the set of ${id} ${body.on ? "on" : "off"}`, d.version, tag, later);
      return sendAfter(reply, d, later, tag);
    });
  });

  const follow = (pair: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const p = parse(followParams, "path", req.params);
    need(source, pair ? "pair" : "unpair");
    const follower = p.id as NodeId;
    const from = p.source as NodeId;
    return writes.run(follower, async () => {
      checkIfMatch(req, detailOrThrow(source, follower), tag);
      if (follower === from)
        throw new ProblemError(400, `path.source: ${from} cannot follow itself`, "path.source");
      if (pair) detailOrThrow(source, from, "path.source");
      const later = await command("path.source", () =>
        pair ? source.pair(follower, from) : source.unpair(follower, from),
      );
      const d = detailOrThrow(source, follower);
      const told = later ?? { deferred: `${follower} ${pair ? "follows" : "no longer follows"} ${from}` };
      await savedOrThrow(source, pair ? "the pairing" : "the unpairing", d.version, tag, told);
      return sendAfter(reply, d, later, tag);
    });
  };
  app.put("/api/nodes/:id/follows/:source", follow(true));
  app.delete("/api/nodes/:id/follows/:source", follow(false));

  // Retires a node for good (twins/retire.ts): 404 unknown, 409 while online unless ?force=true.
  app.delete("/api/nodes/:id", async (req, reply) => {
    const { id } = parse(nodeParams, "path", req.params);
    const q = parse(forgetQuery, "query", req.query);
    if (!source.forget) throw new ProblemError(403, "forget is not available for this fleet");
    const forget = source.forget.bind(source);
    return writes.run(id, async () => {
      const d = detailOrThrow(source, id as NodeId);
      checkIfMatch(req, d, tag);
      if (d.online && q.force !== true)
        throw new ProblemError(
          409,
          `${id} is online: a running node is not forgotten (it would come back as new at its next message); switch it off first, or give ?force=true if it is gone and only its retained status says online`,
          "path.id",
        );
      const done = await command("path.id", () => forget(id as NodeId, q.force === true));
      await savedOrThrow(source, `forgetting ${id}`, d.version, tag);
      return reply.send({ forgotten: true, ...done });
    });
  });

  app.post("/api/nodes/:id/press", async (req, reply) => {
    const { id } = parse(nodeParams, "path", req.params);
    need(source, "press");
    detailOrThrow(source, id as NodeId);
    await command("path.id", () => source.press(id as NodeId));
    return reply.code(202).send({ accepted: true });
  });

  app.get("/api/convergence", async () => convergenceOf(source.convergence(), source.now()));
  app.get("/api/convergence/minutes", async () => {
    if (source.minutes === undefined)
      throw new ProblemError(404, "this fleet keeps no long convergence history: it has no twins service");
    return minutesOf(source.minutes(), source.now());
  });
  app.get("/api/latency", async () => latencyOf(source.latency()));

  app.post("/api/fleet/loss", async (req) => {
    const body = parse(lossBody, "body", req.body);
    need(source, "setLoss");
    await source.setLoss(body.pct);
    return fleetOf(source, kind);
  });

  // A virtual-time run's pace: pause, resume, a speed; what is left out stays as it is.
  app.post("/api/fleet/pace", async (req) => {
    const body = parse(paceBody, "body", req.body);
    need(source, "pace");
    const now = source.pace?.();
    if (!now || !source.setPace) throw new ProblemError(403, "pace is not available for this fleet");
    source.setPace({ speed: body.speed ?? now.speed, paused: body.paused ?? now.paused });
    return fleetOf(source, kind);
  });

  app.post("/api/fleet/faults", async (req, reply) => {
    const body = parse(faultBody, "body", req.body);
    if (body.kind === "power-outage") {
      need(source, "powerOutage");
      await source.powerOutage(body.offS);
    } else if (body.kind === "broker-restart") {
      need(source, "restartBroker");
      await source.restartBroker(body.downS);
    } else {
      need(source, "partition");
      if (!source.partition) throw new ProblemError(403, "partition is not available for this fleet");
      await source.partition(body.fraction, body.forS);
    }
    return reply.code(202).send({ accepted: true });
  });

  app.post("/api/query", async (_req, reply) => {
    need(source, "query");
    await source.query();
    return reply.code(202).send({ accepted: true });
  });
}
