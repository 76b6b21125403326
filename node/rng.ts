/**
 * Seeded randomness: every random stream a node uses is derived from the scenario seed, the node id
 * and the stream's purpose, so presses do not shift when loss changes and the same seed and scenario
 * replay the same presses and losses.
 */
import seedrandom from "seedrandom";

/** A uniform [0, 1) generator. */
export type Random = () => number;

export type StreamName = "press" | "loss-up" | "loss-down" | "handshake";

export function nodeRandom(seed: string, nodeId: string, stream: StreamName): Random {
  const prng = seedrandom.alea(`${seed}\u0000${nodeId}\u0000${stream}`);
  return () => prng();
}

/** Exponential variate with the given mean, for Poisson arrivals. */
export function exponential(rand: Random, mean: number): number {
  return -Math.log(1 - rand()) * mean;
}
