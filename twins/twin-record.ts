/**
 * What the registry keeps per node: the record, a fresh one, its stored form and back, and the Twin
 * view callers get. Pure.
 */
import type { NodeId, RegisterMessage, Stamp } from "../protocol/index.js";
import type { ConvergenceInput } from "./convergence.js";
import { noteOfflineWrite, type OfflineWrite } from "./crossed-writes.js";
import { type DesireState, sameSet } from "./desire.js";
import { type OwnWrite, withOwnWrite } from "./own-writes.js";
import type { DesiredRecord } from "./store.js";
import type { DesiredState, Presence, ReportedConfig, ReportedState, Twin } from "./types.js";

export interface TwinRecord {
  id: NodeId;
  kind?: RegisterMessage["nodeKind"];
  profile?: string;
  firmware?: string;
  presence: Presence;
  lastSeen?: number;
  reported?: ReportedState;
  config?: ReportedConfig;
  /** The last config known to be the node's own (seen while it was online): what it follows. */
  nodeConfig?: ReportedConfig;
  desired: DesiredState;
  /** Has a desire been set or stored (otherwise the first config seen becomes the desire)? */
  desiredKnown: boolean;
  /** The node has shown it follows exactly the desired sources (docs/twins.md, "Pairing"). */
  confirmed: boolean;
  /** Restored as confirmed: the broker's copy of the config, if equal to the desire, confirms it. */
  provisional: boolean;
  /** Restored from the store, and no config of the node seen since nor desire written: see DesireState.restored. */
  restored: boolean;
  /** The desire came from a config seen before the node's presence: see DesireState.unattributed. */
  unattributed: boolean;
  /** This service's pairings not yet seen carried out, the desire's last (twins/own-writes.ts). */
  ownWrites?: readonly OwnWrite[];
  /** The configs this service wrote for the node while it was away, the newest last (twins/crossed-writes.ts). */
  offlineWrites?: readonly OfflineWrite[];
  /** The highest config version the node published since it last came online. */
  sessionVersion?: number;
  /** Sources seen in any config this run: a node may still hold a stamp from a source it left. */
  formerSources: Set<NodeId>;
  /** A register from the node has been seen since this registry was made. */
  registered: boolean;
  /** A register was seen since the node last went offline (for identity conflicts). */
  registeredSinceOnline: boolean;
  /** When the first register of this registry's life was seen, on the service's clock. */
  registeredAt?: number;
  /** Increases on every change of what the twin shows (see Twin.version). */
  version: number;
  /** The node as convergence last saw it (see convergenceInputOf). */
  convergence?: ConvergenceInput;
  /** Its place among the convergence inputs, once they have it (see ConvergenceInputs). */
  inputAt: number;
  /** Its report or config may have changed since convergence last looked. */
  inputTouched: boolean;
  /** Who is upstream of it, as of a FollowGraph epoch (see FollowGraph.mayCarry). */
  upstream?: { readonly epoch: number; readonly ids: ReadonlySet<NodeId> };
  /** The report the broker holds, as last seen since the service subscribed (twins/broker-copy.ts). */
  brokerReport?: Stamp;
  /** That report was written since the subscription, not replayed for it. */
  brokerReportLive: boolean;
  /** A config of the node was seen since the service subscribed: the broker holds one. */
  brokerConfig: boolean;
  /** A config of the node was written since the subscription, not replayed for it. */
  brokerConfigLive: boolean;
}

/** The desire of `t` as desire.ts judges it. */
export function desireStateOf(t: TwinRecord): DesireState {
  const { desired, desiredKnown: known, confirmed, provisional, restored, unattributed, ownWrites } = t;
  return { desired, known, confirmed, provisional, restored, unattributed, ownWrites };
}

/**
 * This service's own pairing of `t`, at `configVersion`; the node's config carrying it is at `from` or
 * above. `offline`: written as the node's retained config, for a node away (twins/crossed-writes.ts).
 */
export function writeDesire(
  t: TwinRecord,
  sources: readonly NodeId[],
  configVersion: number,
  from: number,
  offline = false,
): void {
  if (offline) noteOfflineWrite(t, t.desired.sources, sources, configVersion);
  // Written for a node not online, also before its presence is known (a restarted service taking a
  // crossing in the broker's replay): what it follows stays the broker's copy until it takes this.
  if (offline && t.nodeConfig === undefined) t.nodeConfig = t.config;
  t.desired = { ...t.desired, sources: [...sources], configVersion };
  t.desiredKnown = true;
  t.confirmed = false;
  t.unattributed = false; // the operator's now: only the node's own config confirms it
  t.restored = false; // this service's own from now on: its commands are in `ownWrites`
  // Nor is it the stored confirmed pairing any more: the broker's copy of this write, its echo while
  // the node is away, confirmed it as that pairing's, the node never having taken it.
  t.provisional = false;
  for (const s of sources) t.formerSources.add(s);
  t.ownWrites = withOwnWrite(t.ownWrites, sources, from);
}

/**
 * Sets the presence; true when it changed (the session's config floor and register go with it). Online,
 * the configs written while the node was away are no longer kept (the node's own configs from now on).
 */
export function setPresence(t: TwinRecord, presence: "online" | "offline" | "unheard"): boolean {
  if (t.presence === presence) return false;
  t.presence = presence;
  t.sessionVersion = undefined;
  if (presence === "online") t.offlineWrites = undefined;
  if (presence !== "online") t.registeredSinceOnline = false;
  return true;
}

/**
 * The effect of `node` come online; `dropped` when the configs written while it was away were kept
 * until now (`hadWrites`), so that the store forgets them too.
 */
export function onlineEffect(
  node: NodeId,
  hadWrites: boolean,
): { readonly type: "online"; readonly node: NodeId; readonly dropped?: true } {
  return hadWrites ? { type: "online", node, dropped: true } : { type: "online", node };
}
/** Takes offline the twins shown online (or unheard) that sent nothing since `since`: an effect for each. */
export function offlineUnheard(
  twins: Iterable<TwinRecord>,
  since: number,
): { readonly type: "offline"; readonly node: NodeId; readonly unheard?: true }[] {
  const gone: { readonly type: "offline"; readonly node: NodeId; readonly unheard?: true }[] = [];
  for (const t of twins) {
    if (t.presence !== "online" && t.presence !== "unheard") continue;
    if ((t.lastSeen ?? Number.NEGATIVE_INFINITY) >= since) continue;
    const unheard = t.presence === "unheard";
    setPresence(t, "offline");
    gone.push({ type: "offline", node: t.id, ...(unheard ? { unheard: true as const } : {}) });
  }
  return gone;
}

/**
 * A record with every field present from the start (unset ones undefined, never deleted), so every
 * record has one shape and a pass over the fleet reads them all the same fast way.
 */
export function newRecord(id: NodeId): TwinRecord {
  return {
    id,
    kind: undefined,
    profile: undefined,
    firmware: undefined,
    presence: "unknown",
    lastSeen: undefined,
    reported: undefined,
    config: undefined,
    nodeConfig: undefined,
    desired: { sources: [], configVersion: 0 },
    desiredKnown: false,
    confirmed: true,
    provisional: false,
    restored: false,
    unattributed: false,
    sessionVersion: undefined,
    formerSources: new Set(),
    registered: false,
    registeredSinceOnline: false,
    registeredAt: undefined,
    version: 0,
    convergence: undefined,
    inputAt: -1,
    inputTouched: false,
    upstream: undefined,
    brokerReport: undefined,
    brokerReportLive: false,
    brokerConfig: false,
    brokerConfigLive: false,
  };
}

/**
 * Takes a stored desire and identity into `t`. The store's `lastSeen` is a date: `dateOffset`
 * (`wallNow() - now()`) brings it onto the service's clock; one later than `now` was written on a
 * clock that ran ahead and has been put back since, and says nothing of when the node was heard.
 */
export function restoreRecord(
  t: TwinRecord,
  rec: DesiredRecord,
  dateOffset = 0,
  now = Number.POSITIVE_INFINITY,
): void {
  t.desired = {
    sources: [...rec.sources],
    configVersion: rec.configVersion,
    ...(rec.pendingSet ? { pendingSet: rec.pendingSet } : {}),
  };
  t.desiredKnown = true;
  // A stored pairing is confirmed again only by what the broker or the node shows now (the broker
  // may have lost the config meanwhile); an empty one has nothing to lose. One of a node never heard
  // (no identity, no last-seen date: it never registered nor sent a message) was never confirmed by
  // it, whatever the file says (an older build stored such pairings confirmed, and the broker's copy
  // of its own write then confirmed it again at every start): pending until the node shows it.
  const heard = rec.kind !== undefined || rec.lastSeen !== undefined;
  t.confirmed = rec.pending !== true && rec.sources.length === 0;
  t.provisional = rec.pending !== true && rec.sources.length > 0 && heard;
  t.restored = true;
  if (rec.kind) t.kind = rec.kind;
  if (rec.profile) t.profile = rec.profile;
  if (rec.firmware) t.firmware = rec.firmware;
  if (rec.lastSeen !== undefined && rec.lastSeen - dateOffset <= now) t.lastSeen = rec.lastSeen - dateOffset;
  if (rec.offlineWrites !== undefined && rec.offlineWrites.length > 0) t.offlineWrites = rec.offlineWrites;
}

/** `t` has something worth keeping in the store: a desire known, or an identity. */
export function isStored(t: TwinRecord): boolean {
  return t.desiredKnown || t.kind !== undefined;
}

/**
 * The stored form of `t`, or undefined when there is nothing worth keeping; its `lastSeen` a date,
 * by the host's clock now (`dateOffset`: `wallNow() - now()`, which a step of that clock moves).
 */
export function storedRecord(t: TwinRecord, dateOffset = 0): DesiredRecord | undefined {
  if (!isStored(t)) return undefined;
  return {
    sources: [...t.desired.sources],
    configVersion: t.desired.configVersion,
    ...(t.desired.pendingSet ? { pendingSet: t.desired.pendingSet } : {}),
    ...(t.confirmed ? {} : { pending: true }),
    ...(t.kind ? { kind: t.kind } : {}),
    ...(t.profile ? { profile: t.profile } : {}),
    ...(t.firmware ? { firmware: t.firmware } : {}),
    ...(t.lastSeen !== undefined ? { lastSeen: t.lastSeen + dateOffset } : {}),
    ...(t.offlineWrites !== undefined && t.offlineWrites.length > 0
      ? { offlineWrites: t.offlineWrites }
      : {}),
  };
}

/**
 * The Twin callers get; its fields in the order the type lists them, unset ones left out.
 * `followers` is taken as it is: sorted, and not changed afterwards (FollowGraph.followers).
 */
export function viewOf(t: TwinRecord, followers: readonly NodeId[]): Twin {
  // Built field by field rather than with spreads of small objects: one is made per report.
  const v: { -readonly [K in keyof Twin]: Twin[K] } = { id: t.id } as Twin;
  if (t.kind) v.kind = t.kind;
  if (t.profile) v.profile = t.profile;
  if (t.firmware) v.firmware = t.firmware;
  v.presence = t.presence;
  if (t.lastSeen !== undefined) v.lastSeen = t.lastSeen;
  if (t.reported) v.reported = t.reported;
  if (t.config) v.config = t.config;
  v.desired = t.desired;
  v.pairing = t.confirmed ? "confirmed" : "pending";
  v.follows = [...followed(t)];
  v.followers = followers;
  v.pairingInSync = t.confirmed;
  v.version = t.version;
  if (t.registeredAt !== undefined) v.registeredAt = t.registeredAt;
  return v;
}

const NO_SOURCES: readonly NodeId[] = Object.freeze([]);

/**
 * A config written now (not replayed) for `t`, which is away: not the node's own (a node puts its
 * config back only after its `T1 1`, protocol §5.1). What it follows stays what the broker held
 * before, the last of the node's this service knows, until the node takes the write: a service
 * started while the node was away had heard none of its own, and showed the write as followed.
 */
export function writtenWhileAway(t: TwinRecord): void {
  if (t.presence === "offline" && t.nodeConfig === undefined) t.nodeConfig = t.config;
}

/** Whom the node follows: its own last config, else the one the broker holds. */
export function followed(t: TwinRecord): readonly NodeId[] {
  return (t.nodeConfig ?? t.config)?.sources ?? NO_SOURCES;
}

/**
 * The node as convergence sees it: the same object while its stamp and sources are the same ones,
 * so a pass over a large fleet allocates only for the twins that changed since the last.
 */
export function convergenceInputOf(t: TwinRecord): ConvergenceInput {
  const stamp = t.reported?.stamp;
  const sources = followed(t);
  const offline = t.presence === "offline";
  const last = t.convergence;
  if (
    last !== undefined &&
    last.stamp === stamp &&
    last.sources === sources &&
    (last.offline ?? false) === offline
  ) {
    return last;
  }
  const next: ConvergenceInput = offline
    ? { id: t.id, stamp, sources, offline }
    : { id: t.id, stamp, sources };
  t.convergence = next;
  return next;
}

export function sameConfig(a: ReportedConfig | undefined, b: ReportedConfig): boolean {
  return a !== undefined && a.version === b.version && sameSet(a.sources, b.sources);
}
