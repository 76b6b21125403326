/**
 * What the API accepts, as zod schemas: path ids, the node list's query, and the write bodies. The
 * handlers parse with these (a failure is a 400 naming the field) and the OpenAPI document takes its
 * request schemas from them, so the two cannot drift.
 */
import { z } from "zod";
import { SPEED_MAX } from "../fleet/virtual-clock.js";
import { isNodeId, MAX_ID_LENGTH } from "../protocol/index.js";

const nodeId = z
  .string()
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .refine(isNodeId, `is not a node id (letters, digits, '-' and '_'; 1-${MAX_ID_LENGTH} characters)`);

export const nodeParams = z.object({ id: nodeId }).strict();
export const followParams = z.object({ id: nodeId, source: nodeId }).strict();

const bool = z.enum(["true", "false"], { error: "must be true or false" }).transform((s) => s === "true");
const count = (max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number from 0 to ${max}`)
    .transform(Number)
    .refine((n) => n <= max, `must be a whole number from 0 to ${max}`);

/** `DELETE /api/nodes/{id}`: `?force=true` forgets a node shown online. */
export const forgetQuery = z.object({ force: bool.optional() }).strict();

export const nodesQuery = z
  .object({
    q: z.string().max(64, "must be at most 64 characters").optional(),
    kind: z
      .enum(["real", "sim", "host", "unknown"], { error: "must be real, sim, host or unknown" })
      .optional(),
    online: bool.optional(),
    sync: z
      .enum(["in-sync", "out-of-sync", "unknown"], { error: "must be in-sync, out-of-sync or unknown" })
      .optional(),
    offset: count(10_000_000).optional(),
    limit: count(100_000).optional(),
  })
  .strict();

/** The event stream's query: the token only (EventSource cannot send headers). */
export const eventsQuery = z
  .object({ token: z.string().max(200, "must be at most 200 characters").optional() })
  .strict();

/**
 * The routes that read a query string (each with its schema above; `METHOD path` for one method of a
 * path); every other route but the page's files takes none, and a parameter given to it is refused
 * rather than ignored (web/route-check.ts).
 */
export const QUERY_ROUTES: ReadonlySet<string> = new Set([
  "/api/nodes",
  "/api/events",
  "DELETE /api/nodes/:id",
]);

/** The writes whose body is read (each with its schema above); the others take no body. */
export const BODY_ROUTES: ReadonlySet<string> = new Set([
  "/api/nodes/:id/state",
  "/api/fleet/loss",
  "/api/fleet/pace",
  "/api/fleet/faults",
]);

export const stateBody = z.object({ on: z.boolean({ error: "must be true or false" }) }).strict();

export const lossBody = z
  .object({
    pct: z
      .number({ error: "must be a number from 0 to 100" })
      .finite()
      .min(0, "must be from 0 to 100")
      .max(100, "must be from 0 to 100"),
  })
  .strict();

const seconds = z
  .number({ error: "must be a number of seconds" })
  .finite()
  .gt(0, "must be above 0")
  .max(3600, "must be at most 3600");

export const faultBody = z.discriminatedUnion(
  "kind",
  [
    z.object({ kind: z.literal("power-outage"), offS: seconds }).strict(),
    z.object({ kind: z.literal("broker-restart"), downS: seconds }).strict(),
    z
      .object({
        kind: z.literal("partition"),
        fraction: z
          .number({ error: "must be a number above 0 and at most 1" })
          .gt(0, "must be above 0")
          .max(1, "must be at most 1"),
        forS: seconds,
      })
      .strict(),
  ],
  { error: "must be power-outage, broker-restart or partition" },
);
export type FaultBody = z.infer<typeof faultBody>;

/** The fastest pace the API accepts as a number: beyond it, ask for `"max"`. */
const speedError = `must be a number of virtual seconds per second above 0 and at most ${SPEED_MAX}, or "max"`;

/**
 * A virtual-time run's pace: its speed (virtual seconds per wall second, or `"max"`: as fast as the
 * CPU allows), paused or not; either may be left out to keep what it is.
 */
export const paceBody = z
  .object({
    speed: z
      .union(
        [
          z.literal("max"),
          z.number({ error: speedError }).finite().gt(0, speedError).max(SPEED_MAX, speedError),
        ],
        { error: speedError },
      )
      .optional(),
    paused: z.boolean({ error: "must be true or false" }).optional(),
  })
  .strict()
  .refine((b) => b.speed !== undefined || b.paused !== undefined, {
    error: "give speed, paused or both",
  });
export type PaceBody = z.infer<typeof paceBody>;
