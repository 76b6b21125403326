/**
 * What `twins.json` holds and how it is told apart (twins/store.ts writes and reads it): the schema of
 * its records, its formats, the fleet it is of (`fleet`: the topic prefix of the fleet whose desire it
 * holds), what its service last read of its broker's start (`broker`), and the head a journaled
 * store's first append marks without rewriting the file (`markable`).
 */
import { open } from "node:fs/promises";
import { z } from "zod";
import { isNodeId, NODE_KINDS, type NodeId } from "../protocol/index.js";
import type { StoredState } from "./store.js";
import type { BrokerSeen } from "./store-lock.js";

const idSchema = z.custom<NodeId>((v) => typeof v === "string" && isNodeId(v), "not a node id");
const sourcesSchema = z.array(idSchema).max(8);
/** Kept per node: twins/crossed-writes.ts keeps 8. */
export const MAX_OFFLINE_WRITES = 8;
const offlineWriteSchema = z.object({
  version: z.number().int().min(1),
  sources: sourcesSchema,
  before: sourcesSchema,
  taken: z.array(sourcesSchema).max(MAX_OFFLINE_WRITES).optional(),
});
const recordSchema = z.object({
  sources: sourcesSchema,
  configVersion: z.number().int().min(0),
  pendingSet: z.object({ on: z.boolean(), counter: z.number().int().min(0) }).optional(),
  pending: z.boolean().optional(),
  kind: z.enum(NODE_KINDS).optional(),
  profile: z.string().optional(),
  firmware: z.string().optional(),
  lastSeen: z.number().optional(),
  offlineWrites: z.array(offlineWriteSchema).max(MAX_OFFLINE_WRITES).optional(),
});
/**
 * The newest file format this build reads; a newer one is refused, left as it is. Format 2 is format
 * 1 with the configs written for nodes away (`offlineWrites`), which a build reading format 1 would
 * drop without a word: a file is written in format 2 only while it holds some, so a rollback works
 * on any other, and stops, naming the format, on one that holds them.
 */
export const STORE_FORMAT = 3;
/**
 * Format 3 is format 2 with a journal beside it (`journal`: its generation, twins/store-journal.ts),
 * holding the changes made since: written while a service runs, as a build that reads format 2
 * would read the file and drop the journal without a word. A clean stop folds the journal in and
 * writes format 1 or 2 again, naming the generation the next journal will have.
 */
export const JOURNALED_FORMAT = 3;
/** The format a state is written in: the oldest that holds all of it. */
export function formatFor(state: StoredState): 1 | 2 {
  for (const id in state.nodes) if (state.nodes[id]?.offlineWrites !== undefined) return 2;
  return 1;
}
export const fileSchema = z.object({
  format: z.union([z.literal(1), z.literal(2), z.literal(JOURNALED_FORMAT)]),
  // Absent in a file written before it was kept: the file is then taken as the fleet's that reads it.
  fleet: z.string().optional(),
  // What the protocol forbids (a node following itself, a source twice) would be sent to the node as
  // a desire: its real pairing undone, the impossible one retried for ever.
  nodes: z.record(z.string(), recordSchema).superRefine((nodes, ctx) => {
    for (const [id, r] of Object.entries(nodes)) {
      const lists: [(string | number)[], readonly NodeId[]][] = [[[id, "sources"], r.sources]];
      r.offlineWrites?.forEach((w, i) => {
        lists.push(
          [[id, "offlineWrites", i, "sources"], w.sources],
          [[id, "offlineWrites", i, "before"], w.before],
        );
      });
      for (const [path, sources] of lists) {
        if (sources.includes(id as NodeId))
          ctx.addIssue({ code: "custom", path, message: "a node cannot follow itself" });
        const twice = sources.find((s, i) => sources.indexOf(s) !== i);
        if (twice !== undefined) ctx.addIssue({ code: "custom", path, message: `names ${twice} twice` });
      }
    }
  }),
});

/**
 * The text of a snapshot. Its head is always `{"format": F, "journal": G, …` (one-space indent), so
 * the first append after a clean stop can make format 1 or 2 a format 3 by its one digit
 * (`markJournaled`) where it rewrote the whole file (seconds at 20,000 twins).
 * `broker`: what the service last read of its broker's start (twins/broker-restart.ts), for the
 * service after it however this one stopped; read apart from the schema (store-lock.ts brokerSeenIn),
 * and a build before it reads the file as it read it, the key left out.
 */
export function snapshotText(
  format: number,
  generation: number,
  fleet: string | undefined,
  state: StoredState,
  broker?: BrokerSeen,
): string {
  const head = { format, journal: generation, ...(fleet !== undefined ? { fleet } : {}) };
  return `${JSON.stringify({ ...head, ...(broker !== undefined ? { broker } : {}), nodes: state.nodes }, null, 1)}\n`;
}

const FORMAT_AT = '{\n "format": '.length;

/** `text` (a snapshot read) begins as snapshotText writes it, in `format` with `generation`. */
export function markable(text: string, format: number, generation: number): boolean {
  return text.startsWith(`{\n "format": ${format},\n "journal": ${generation},\n`);
}

/**
 * Makes the snapshot `file` (a `markable` text) a format 3 one and syncs it: the one byte of its format
 * changed in place, within the file's first block, so a build before the journal refuses the
 * directory from then on.
 */
export async function markJournaled(file: string): Promise<void> {
  const fh = await open(file, "r+");
  try {
    await fh.write(String(JOURNALED_FORMAT), FORMAT_AT, "utf8");
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** What a start on another fleet's `twins.json` stops with (the file is left as it is). */
export function otherFleetError(file: string, stored: string, fleet: string): Error {
  return new Error(
    `twins store ${file} holds the desired state of the fleet under prefix ${stored}, and this service ` +
      `watches prefix ${fleet}: start it with --prefix ${stored} to run that fleet, or give the fleet under ` +
      `prefix ${fleet} a data directory of its own (the file is left as it is; moving it away loses ` +
      "the pending sets and pairings of that fleet's offline nodes)",
  );
}

export const CORRUPT_HINT =
  "restore it from a backup, or move it away to start without it (pairings the nodes hold are read " +
  "back from their retained configs; pending sets and pending pairings of offline nodes are lost)";

/** The file's `format` when it is a whole number, else undefined (the schema then says what is wrong). */
export function formatOf(value: unknown): number | undefined {
  const format =
    typeof value === "object" && value !== null ? (value as { format?: unknown }).format : undefined;
  return Number.isInteger(format) ? (format as number) : undefined;
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  if (text.trim() === "")
    return { ok: false, why: "is empty (a crash or a full disk while it was written?)" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, why: `is not JSON, truncated or corrupt (${(e as Error).message})` };
  }
}
