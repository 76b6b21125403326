/**
 * A fleet split into shards across processes or machines: the shard spec (`--shard K/N`, K from 1 to
 * N, or `env/N` to take K from a Kubernetes Indexed Job's JOB_COMPLETION_INDEX), which nodes each
 * shard runs, and the fleet's fingerprint. Every shard derives the whole fleet — ids, pairing, press
 * streams (seeded by seed and node id) — from the options alone; shard K runs node i when
 * i mod N = K − 1, so a ring of consecutive ids spans shards and its pairs cross them.
 */
import { createHash } from "node:crypto";
import { exponential, nodeRandom } from "../node/rng.js";
import type { NodeId } from "../protocol/index.js";
import { isWholeDecimal, OptionError } from "../protocol/index.js";
import { shown } from "../protocol/shown.js";
import type { Pairing } from "../sim/topology.js";

export interface ShardSpec {
  /** 1-based: shard 1 is the clock reference of the merged report. */
  readonly index: number;
  readonly count: number;
}

/** The most shards a fleet is split into. */
export const MAX_SHARDS = 1000;

/** The environment variable `--shard env/N` reads (0-based, as a Kubernetes Indexed Job sets it). */
export const SHARD_INDEX_ENV = "JOB_COMPLETION_INDEX";

export class ShardSpecError extends OptionError {
  override readonly name = "ShardSpecError";
}

const whole = (s: string) => (isWholeDecimal(s) ? Number(s) : Number.NaN);

/**
 * Reads `K/N` (K from 1 to N) or `env/N` (K = $JOB_COMPLETION_INDEX + 1). The error names the flag,
 * what it must be and what it got.
 */
export function parseShardSpec(
  raw: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  flag = "--shard",
): ShardSpec {
  const m = /^\s*([^/\s]+)\s*\/\s*([^/\s]+)\s*$/.exec(raw);
  const must = `must be K/N with N a whole number from 1 to ${MAX_SHARDS} and K from 1 to N, or env/N (K from $${SHARD_INDEX_ENV} + 1)`;
  if (!m) throw new ShardSpecError(`${flag}: ${must}, got ${shown(raw)}`);
  const [, k = "", n = ""] = m;
  const count = whole(n);
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS)
    throw new ShardSpecError(`${flag}: ${must}; N is ${shown(n)}`);
  if (k === "env") {
    const fromEnv = env[SHARD_INDEX_ENV];
    if (fromEnv === undefined)
      throw new ShardSpecError(`${flag}: env/${count} reads $${SHARD_INDEX_ENV}, which is not set`);
    const i = whole(fromEnv.trim());
    if (!Number.isInteger(i) || i >= count)
      throw new ShardSpecError(
        `${flag}: $${SHARD_INDEX_ENV} must be a whole number from 0 to ${count - 1} (0-based) for env/${count}, got ${shown(fromEnv)}`,
      );
    return { index: i + 1, count };
  }
  const index = whole(k);
  if (!Number.isInteger(index) || index < 1 || index > count)
    throw new ShardSpecError(`${flag}: ${must}; K is ${shown(k)}, not from 1 to ${count}`);
  return { index, count };
}

/** The nodes shard `spec` runs, in fleet order: every N-th id from K − 1 on. */
export function shardSlice(ids: readonly NodeId[], spec: ShardSpec): NodeId[] {
  return ids.filter((_, i) => i % spec.count === spec.index - 1);
}

/** The shard (1-based) that runs the node at fleet index `i`. */
export function shardOfIndex(i: number, count: number): number {
  return (i % count) + 1;
}

/**
 * A hash of the whole fleet — every id and every node's sources in order — and of what makes the
 * presses: two shards with the same fingerprint run parts of the same fleet.
 */
export function fleetFingerprint(
  ids: readonly NodeId[],
  pairing: Pairing,
  presses: { readonly seed: string; readonly ratePerNodePerMin: number; readonly durationS: number },
): string {
  const h = createHash("sha256");
  // Only these fields: a shard's own settings (its broker, its workers, its report file) differ.
  const { seed, ratePerNodePerMin, durationS } = presses;
  h.update(JSON.stringify({ seed, ratePerNodePerMin, durationS }));
  for (const id of ids) h.update(`${id}<${(pairing.get(id) ?? []).join(",")}\n`);
  return h.digest("hex").slice(0, 32);
}

/**
 * The presses a node's Poisson plan makes, in ms from the start of the presses: the stream a
 * SimNode draws for its first plan (seed, plan number 0, node id), whichever shard runs it.
 */
export function plannedPresses(
  seed: string,
  id: NodeId,
  ratePerNodePerMin: number,
  durationMs: number,
): number[] {
  if (!(ratePerNodePerMin > 0)) return [];
  const rand = nodeRandom(`${seed}\u00000`, id, "press");
  const mean = 60_000 / ratePerNodePerMin;
  const out: number[] = [];
  for (let t = exponential(rand, mean); t < durationMs; t += exponential(rand, mean)) out.push(t);
  return out;
}
