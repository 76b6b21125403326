/**
 * What the twins store keeps of each node (its desire, its pending set, its last identity and the
 * configs written for it while it was away) and of the fleet: the records a snapshot or a journal
 * line holds (twins/store.ts writes and reads them; store-format.ts checks them).
 */
import type { NodeId, NodeKind } from "../protocol/index.js";

/** What the twins service wants a node to be; the node's reported state is what it is. */
export interface DesiredRecord {
  /** Sources the node should follow (desired pairing). */
  readonly sources: readonly NodeId[];
  /**
   * Config version this desire corresponds to: the version the twins service expects the node to
   * reach with it. A reported config with a higher version is a change made elsewhere and is
   * adopted as the new desire (see docs/twins.md, "Pairing").
   */
  readonly configVersion: number;
  /** A set command the node has not yet acted on: re-sent when it registers. */
  readonly pendingSet?: { readonly on: boolean; readonly counter: number };
  /** The node has not confirmed the desired sources yet: re-sent when it registers. */
  readonly pending?: boolean;
  /** Last known identity, so an offline node still shows what it is after a restart. */
  readonly kind?: NodeKind;
  readonly profile?: string;
  readonly firmware?: string;
  readonly lastSeen?: number;
  /**
   * The configs this service wrote for the node while it was away, the newest last: another tool's
   * write at one of their versions is a crossing (twins/crossed-writes.ts). Format 2 (below).
   */
  readonly offlineWrites?: readonly StoredOfflineWrite[];
}

/** A config written for a node away: its version, its sources, and the desired sources before it. */
export interface StoredOfflineWrite {
  readonly version: number;
  readonly sources: readonly NodeId[];
  readonly before: readonly NodeId[];
  /** Other tools' configs at its version taken on top of the desire already, each once. */
  readonly taken?: readonly (readonly NodeId[])[];
}

export interface StoredState {
  readonly nodes: Readonly<Record<string, DesiredRecord>>;
}
