/**
 * Whose pairing wins: how a config seen on the broker moves a twin's desired sources and whether the
 * node has confirmed them (docs/twins.md, "Pairing"; protocol.md §6, "Whose config is it"). Pure.
 *
 * Nodes and control servers both write `<p>/config/<id>`. A config that arrives while the node is
 * online is the node's own (a control server writes only for offline nodes, and a node publishes its
 * config only after its `T1 1`); only such a config confirms a desire. Anything else may be a control
 * server's write: it confirms nothing, and replaces the desire only when its version is above the
 * desire's (a change made by another control tool).
 *
 * A config seen before anything told whether its node is online (the service's start replays the
 * retained configs before the statuses, and a one-shot tool writes one for a node never seen) is
 * nobody's yet: its pairing is pending, and unattributed until the node's presence settles it
 * (desireAfterPresence).
 */
import { afterDesireShown, isOwnEcho, type OwnWrite } from "./own-writes.js";
import type { DesiredState, Presence, ReportedConfig } from "./types.js";

export interface DesireState {
  readonly desired: DesiredState;
  /** A desire was set, stored or learnt; until then the first config seen becomes the desire. */
  readonly known: boolean;
  /** The node itself has shown that it follows exactly the desired sources. */
  readonly confirmed: boolean;
  /** Restored from the store as confirmed: the broker's copy, if it equals the desire, confirms it. */
  readonly provisional?: boolean;
  /**
   * Restored from the store, confirmed or pending, and no config of the node seen since: nothing this
   * process sent the node is in flight, so the node's own config at a higher version was made after
   * the stored desire (another tool's, or this service's own write the store never got: a save a
   * frozen disk held when the service was killed, its config already published and carried out).
   */
  readonly restored?: boolean;
  /**
   * Adopted from a config seen while the node's presence was unknown, and no other config since: a
   * retained `T1 1` or a register, the first presence that comes, says it is the node's own.
   */
  readonly unattributed?: boolean;
  /** This service's pairings not yet seen carried out, the desire's last (twins/own-writes.ts). */
  readonly ownWrites?: readonly OwnWrite[];
}

export interface DesireOutcome {
  readonly next: DesireState;
  /** The desire or its confirmation changed (store it, tell listeners). */
  readonly changed: boolean;
  /** The node, online, follows something else than desired: send it the pairing again. */
  readonly reconcile: boolean;
}

/** The desire after a config `seen` on the broker, given the node's presence when it arrived. */
export function desireAfterConfig(s: DesireState, seen: ReportedConfig, presence: Presence): DesireOutcome {
  const { desired } = s;
  const fromNode = presence === "online";
  const same = sameSet(seen.sources, desired.sources);
  const adopt = (
    confirmed: boolean,
    unattributed = false,
    ownWrites?: readonly OwnWrite[],
  ): DesireOutcome => ({
    next: {
      desired: { ...desired, sources: [...seen.sources], configVersion: seen.version },
      known: true,
      confirmed,
      ...(unattributed ? { unattributed } : {}),
      ...(ownWrites ? { ownWrites } : {}),
    },
    changed: true,
    reconcile: false,
  });
  const unchanged: DesireOutcome = { next: s, changed: false, reconcile: false };
  // Nothing asked of the node yet: whatever it follows is what it should follow. Seen while the node
  // is online, it is the node's own; while it is offline, a control tool's pairing the node has yet
  // to confirm; before its presence is known (never seen, or its status not replayed yet), either:
  // pending until the presence tells (desireAfterPresence).
  if (!s.known) return adopt(fromNode, presence === "unknown");
  if (fromNode) {
    if (same)
      return s.confirmed && desired.configVersion === seen.version
        ? unchanged
        : adopt(true, false, afterDesireShown(s.ownWrites, seen.version));
    // This service's own earlier command carried out, its newer one behind it: not another tool's.
    if (isOwnEcho(s.ownWrites, seen.sources, seen.version, sameSet))
      return { next: { ...s, confirmed: false, unattributed: false }, changed: s.confirmed, reconcile: true };
    // Another control tool commanded the node after this service's desire was confirmed, or after
    // the store's (`restored`: confirmed or pending; a restored older backup, a pairing made while
    // the service was down, one of its own published before its save ended and never stored),
    // whether the node was heard before the broker's copy of its config or after.
    if ((s.confirmed || s.provisional || s.restored) && seen.version > desired.configVersion)
      return adopt(true);
    // A pending desire is newer than anything the node had (it was made while the node could not
    // hear it, or is being carried out), so the node's config never replaces it.
    return { next: { ...s, confirmed: false, unattributed: false }, changed: s.confirmed, reconcile: true };
  }
  // A pairing stored confirmed, and the broker's copy lists exactly its sources: the node follows
  // them, whatever the version says. A higher one is a write the stored desire missed (a re-pair to
  // the same sources while the service was down, a confirmation it was killed before saving), a
  // lower one a write the broker lost; either way the node, syncing or booting, ends on these sources.
  if (same && s.provisional) {
    if (seen.version > desired.configVersion) return adopt(true);
    return { next: { ...s, confirmed: true }, changed: true, reconcile: false };
  }
  if (seen.version > desired.configVersion) {
    if (same) return adopt(s.confirmed);
    return adopt(false); // another tool's write for an offline node: pending until the node confirms
  }
  if (seen.version === desired.configVersion && same) return unchanged;
  // An older or conflicting copy on the broker: it replaces nothing, but the node's next sync may
  // see it, so the pairing is checked again when the node registers.
  return { next: { ...s, confirmed: false, unattributed: false }, changed: s.confirmed, reconcile: false };
}

/**
 * The desire once the node's presence is heard: `own` when that presence shows the node synced
 * before the config was seen — a retained `T1 1` (replayed, so published before the service
 * subscribed; a node publishes it on completing a sync, having taken the broker's config) or a
 * register not preceded by a status — so the broker's config, unchanged since, is what it follows.
 * A live `T1 1` (a node syncing now, which may keep a newer config of its own) or a `T1 0` confirms
 * nothing: the pairing stays pending until the node itself shows its config.
 */
export function desireAfterPresence(s: DesireState, own: boolean): DesireOutcome {
  if (!s.unattributed) return { next: s, changed: false, reconcile: false };
  return {
    next: { ...s, confirmed: s.confirmed || own, unattributed: false },
    changed: own && !s.confirmed,
    reconcile: false,
  };
}

export function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
