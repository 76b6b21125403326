/**
 * The store keeps a node's last-seen time as a date; the service keeps it on its scheduler's `now()`,
 * which a step of the host's clock does not move (NTP setting a board that booted in 1970, an
 * operator putting back a clock that ran ahead). A save writes it on the host's clock of the moment
 * and a restore brings it back onto `now()`, so a restart after a step neither shows the nodes heard
 * decades ago nor takes a date still to come for a node's answer to the query (unanswered.ts).
 *
 * The dates are stored when a node goes offline (its last one is final then), as the service
 * stops, with every rewrite of the snapshot and with each record a change writes to the journal
 * (store-journal.ts): only those of a desire's change were stored before, and a node heard for hours
 * since its pairing last changed was shown, after a restart, last heard at that change. And each
 * minute those of the nodes heard since their records were written, at most the saver's
 * DATES_MAX_NODES, those written longest ago first (`datesBehind`, twins/stored-seen.ts): a service
 * that never stops (kill -9, a power cut) ended no run of dates, and its nodes, live to the cut,
 * came back last heard at their last desire's change or offline, however long before.
 */
import type { Logger } from "pino";
import type { Scheduler } from "../node/scheduler.js";
import type { SavedState } from "./desire-saver.js";
import type { TwinRegistry } from "./registry.js";
import type { StoredState } from "./store.js";
import type { Slicing } from "./store-slices.js";

/** `wallNow() - now()`: what brings a time on `now()` to its date by the host's clock now. */
export function dateOffset(sched: Scheduler): number {
  return sched.wallNow() - sched.now();
}

/**
 * The registry's state to store, whole or some twins', its dates by the host's clock at the time of
 * each save; whole, walked `slicing` at a time (store-slices.ts).
 */
export function datedState(registry: TwinRegistry, sched: Scheduler, slicing?: Slicing): SavedState {
  return {
    whole: () => registry.snapshotInSlices(dateOffset(sched), slicing),
    records: (nodes) => {
      const offset = dateOffset(sched);
      return new Map([...nodes].map((id) => [id, registry.storedOf(id, offset)]));
    },
    datesBehind: (limit) => registry.datesBehind(limit),
  };
}

/** Restores `state` into `registry`, its dates onto `sched`'s `now()`; says what it left out. */
export function restoreDated(
  registry: TwinRegistry,
  state: StoredState,
  sched: Scheduler,
  logger: Logger,
): void {
  const now = sched.now();
  const offset = dateOffset(sched);
  const ahead = Object.values(state.nodes).filter(
    (r) => r.lastSeen !== undefined && r.lastSeen - offset > now,
  ).length;
  if (ahead > 0)
    logger.warn(
      { nodes: ahead, now: new Date(now + offset).toISOString() },
      "twins: the store dates the last message of some nodes later than the host's clock (put back since, or wrong now?): their last seen is left out until they are heard",
    );
  registry.restore(state, offset, now);
}
