// What the tests of a run's wait for its ids share: a fleet's ids whose presence a test turns
// offline (as the broker's wills would), and the outcome of the wait read without awaiting it.
import { NodeId } from "../../protocol/index.js";
import type { Presence } from "../ids-in-use.js";

export const where = { url: "mqtt://lab:1883", prefix: "tf", fleet: 2 };
export const ids = [NodeId("n-0000"), NodeId("n-0001")];

/** The fleet's ids online until `goOffline()`: what the broker's wills tell. */
export function presence(): Presence & { goOffline(): void } {
  let online = true;
  const watchers = new Set<() => void>();
  return {
    online: () => online,
    watch: (changed) => {
      watchers.add(changed);
      return () => watchers.delete(changed);
    },
    goOffline: () => {
      online = false;
      for (const w of watchers) w();
    },
  };
}

/** The wait's outcome so far: "waiting", then its value or its error. */
export function outcomeOf(p: Promise<boolean>): () => unknown {
  let outcome: unknown = "waiting";
  p.then(
    (v) => {
      outcome = v;
    },
    (e: unknown) => {
      outcome = e;
    },
  );
  return () => outcome;
}

/** Lets the promises a fake timer resolved run on. */
export const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};
