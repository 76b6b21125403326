/**
 * What a fleet run's start (fleet/setup.ts, fleet/shard-start.ts) is given besides its options: the
 * stop that ends it there (FleetStartStoppedError, nothing ran), and where it tells each step as it
 * begins, so that a start that waits (on a broker, on ids in use) can be said to wait on what.
 */
export interface StartControl {
  /** Aborted by a stop (SIGTERM, Ctrl-C): the step under way ends, and the start with it. */
  readonly signal?: AbortSignal;
  /** Told each step as it begins, in words for a person (`claiming the fleet's 15000 ids on the broker`). */
  readonly step?: (what: string) => void;
}
