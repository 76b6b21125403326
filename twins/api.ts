/**
 * The twins service's public interface (implemented by twins/service.ts) and the error its commands
 * throw for bad caller input.
 */
import type { EventEmitter } from "node:events";
import { NodeId, type Prefix, ProtocolError } from "../protocol/index.js";
import type { BrokerWaitStatus } from "./broker-wait.js";
import type { ConvergenceReport } from "./convergence.js";
import type { BadInputReason, SeriesPoint, Twin, TwinsEvents } from "./types.js";

/** Bad caller input (a malformed id, a self-follow): the message says what is wrong. */
export class TwinsCommandError extends Error {
  override readonly name = "TwinsCommandError";
}

/** A caller's node id, checked: a bad one is a TwinsCommandError naming `what` it was for. */
export function nodeId(s: string, what: string): NodeId {
  try {
    return NodeId(s);
  } catch (e) {
    if (e instanceof ProtocolError) throw new TwinsCommandError(`${what}: ${e.message}`);
    throw e;
  }
}

export interface Twins extends EventEmitter<TwinsEvents> {
  readonly prefix: Prefix;
  /** Its MQTT client id; its presence is `<prefix>/control/<clientId>` unless passive. */
  readonly clientId: string;
  /** Only watches: set, pair, unpair and query throw, nothing is published or stored. */
  readonly passive: boolean;
  /**
   * Settles once the broker is first reached: already when `startTwins` resolved, unless it was
   * given `waitForBroker`; then when the service connects, or rejected with the `BrokerConnectError`
   * that retrying cannot fix (the service then tries no more; close it).
   */
  readonly reached: Promise<void>;
  /** While a service started with `waitForBroker` has not reached its broker: since when, and why. */
  readonly waiting: BrokerWaitStatus | undefined;
  list(): Twin[];
  get(id: string): Twin | undefined;
  /** Sets a node's state with `S1 v c`, c the highest counter seen; resolves to c. */
  set(id: string, on: boolean): Promise<number>;
  /** `follower` follows `source` from now on, across node reboots and twins restarts. */
  pair(follower: string, source: string): Promise<void>;
  unpair(follower: string, source: string): Promise<void>;
  /** Publishes `Q1`: every live node answers with its register and report. */
  query(): Promise<void>;
  convergence(): ConvergenceReport;
  /** The in-sync fraction over time, oldest first (bounded). */
  history(): SeriesPoint[];
  badInput(): { readonly total: number; readonly byReason: Record<BadInputReason, number> };
  /** Bad inputs counted against one node. */
  badInputOf(id: string): number;
  /** Resolves once the stored state is written. */
  flush(): Promise<void>;
  /** Clears its presence, disconnects cleanly, writes the stored state and closes the store. */
  close(): Promise<void>;
  /**
   * What a kill -9 of the process does: the connection is dropped without DISCONNECT (the broker
   * publishes the will, which clears the presence), no further save starts (what the store has
   * fully written stays), nothing is flushed and the store is not closed.
   */
  kill(): Promise<void>;
}
