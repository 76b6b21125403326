/**
 * What a sharded run's caller is told as the shard goes (fleet/shard-run.ts): its lines, the steps
 * of its start and of its end, its resident memory.
 */
import type { HostLookup } from "../broker/listen.js";
import type { StallWatch } from "../node/stall-watch.js";

export interface ShardRunHooks {
  /** A progress or phase line for a person. */
  readonly note?: (line: string) => void;
  /** The shard's stall watch; by default its scheduler's (none on a fake one). */
  readonly stalls?: StallWatch;
  /** Told each step of its start as it begins (fleet/start-control.ts), and its end: its nodes start. */
  readonly step?: (what: string) => void;
  readonly started?: () => void;
  /** Told each step of its end as it begins (its nodes stopped, its claim cleared), and awaited. */
  readonly ending?: (what: string) => void | Promise<void>;
  /** Its resident memory, bytes (process.memoryUsage.rss); a test's fails as at the open-files limit. */
  readonly rss?: () => number;
  /** How its nodes' broker name is looked up (default: the system's), and how often again (fleet/broker-address.ts). */
  readonly lookup?: HostLookup;
  readonly nameCheckMs?: number;
}
