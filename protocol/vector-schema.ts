/**
 * The conformance-vector file format (protocol/vectors/*.json), as a zod schema: one node, a
 * sequence of timed inputs, and the exact outputs each input must produce.
 */
import { z } from "zod";
import { DROP_REASONS } from "./errors.js";
import { NODE_KINDS } from "./messages.js";

const input = z.discriminatedUnion("type", [
  z.object({ type: z.literal("boot") }).strict(),
  z.object({ type: z.literal("connected") }).strict(),
  z.object({ type: z.literal("disconnected") }).strict(),
  z.object({ type: z.literal("press") }).strict(),
  z.object({ type: z.literal("tick") }).strict(),
  z
    .object({
      type: z.literal("message"),
      topic: z.string(),
      payload: z.string(),
      qos: z.union([z.literal(0), z.literal(1)]).optional(),
    })
    .strict(),
]);

const output = z.discriminatedUnion("type", [
  z
    .object({ type: z.literal("subscribe"), topic: z.string(), qos: z.union([z.literal(0), z.literal(1)]) })
    .strict(),
  z.object({ type: z.literal("unsubscribe"), topic: z.string() }).strict(),
  z
    .object({ type: z.literal("publish"), topic: z.string(), payload: z.string(), retain: z.boolean() })
    .strict(),
  z.object({ type: z.literal("led"), on: z.boolean() }).strict(),
  z.object({ type: z.literal("drop"), reason: z.enum(DROP_REASONS), topic: z.string() }).strict(),
]);

export const vectorSchema = z
  .object({
    name: z.string().min(1),
    about: z.string().min(1),
    node: z
      .object({
        id: z.string(),
        prefix: z.string(),
        kind: z.enum(NODE_KINDS),
        profile: z.string(),
        firmware: z.string(),
        syncGraceMs: z.number().int().nonnegative(),
      })
      .strict(),
    steps: z
      .array(z.object({ at: z.number().int().nonnegative(), in: input, out: z.array(output) }).strict())
      .min(1),
    /** The node's state after the last step. */
    final: z
      .object({
        on: z.boolean(),
        led: z.boolean(),
        counter: z.number().int().nonnegative(),
        origin: z.string(),
        clock: z.number().int().nonnegative(),
        sources: z.array(z.string()),
        configVersion: z.number().int().nonnegative(),
      })
      .strict(),
  })
  .strict();

export const vectorFileSchema = z.object({ vectors: z.array(vectorSchema).min(1) }).strict();

export type Vector = z.infer<typeof vectorSchema>;
export type VectorInput = z.infer<typeof input>;
export type VectorOutput = z.infer<typeof output>;
