/**
 * What a fleet run's start (fleet/setup.ts, fleet/shard-start.ts) is given besides its options: the
 * stop that ends it there (FleetStartStoppedError, nothing ran), and where it tells each step as it
 * begins, so that a start that waits (on a broker, on ids in use) can be said to wait on what; and,
 * for a one-process run (fleet/run.ts), the steps of its end, as a shard's (fleet/shard-hooks.ts).
 */
import type { HostLookup } from "../broker/listen.js";
import type { ShardRunHooks } from "./shard-hooks.js";

export interface StartControl {
  /** Aborted by a stop (SIGTERM, Ctrl-C): the step under way ends, and the start with it. */
  readonly signal?: AbortSignal;
  /** Told each step as it begins, in words for a person (`claiming the fleet's 15000 ids on the broker`). */
  readonly step?: (what: string) => void;
  /** Told each step of the run's end as it begins (its nodes stopped, its claim cleared), and awaited. */
  readonly ending?: ShardRunHooks["ending"];
  /** How the broker's host name is looked up for the nodes (default: the system's): fleet/broker-address.ts. */
  readonly lookup?: HostLookup;
}
