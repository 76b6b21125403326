/**
 * The merge's replay (`twinfleet report merge`): every press and applied state of every shard, on
 * shard 1's clock and in time order, through one versioned checker per (follower's shard, same
 * shard as the source or not) — the outcomes of a pair depend on its follower only, so the sums are
 * the whole fleet's and each part is attributable. Each event goes only to the checkers it can
 * change: its node's own shard's two (its applied state is a follower's there) and, for a press,
 * those holding its followers; so the replay grows with the events, not with events × shards.
 * A shard cut short (stopped by a signal) saw nothing after it stopped: the pairs pressed later whose
 * follower it ran are judged by no checker, only counted (`unjudged`).
 */
import type { NodeId, Stamp } from "../protocol/index.js";
import { SyncChecker } from "../sim/checker.js";
import { type ShardFile, ShardFileError } from "./shard-report.js";

export function parseStamp(file: string, text: string): Stamp {
  const at = text.indexOf("@");
  const counter = Number(text.slice(0, at));
  if (at <= 0 || !Number.isInteger(counter))
    throw new ShardFileError(`${file}: ${JSON.stringify(text)} is not a stamp (counter@node)`);
  return { counter, origin: text.slice(at + 1) as NodeId };
}

/** The key of the checker of pairs whose follower is in shard `j`, their source in another (`cross`) or not. */
export function checkerKey(j: number, cross: boolean): string {
  return `${j}/${cross}`;
}

export interface ShardFleet {
  readonly count: number;
  /** Each node's shard (1-based). */
  readonly shardOf: ReadonlyMap<string, number>;
  /** Each node's followers. */
  readonly reach: ReadonlyMap<NodeId, readonly NodeId[]>;
  /** What to subtract from each shard's times to put them on shard 1's clock. */
  readonly offsetOf: ReadonlyMap<number, number>;
  /** When each shard cut short stopped, on shard 1's clock. */
  readonly stoppedAt?: ReadonlyMap<number, number>;
}

export interface Replay {
  /** The finished checkers by checkerKey. */
  readonly checkers: Map<string, SyncChecker>;
  /** By shard cut short: the (press, follower) pairs pressed after it stopped, with the follower its. */
  readonly unjudged: Map<number, number>;
}

/** Replays the shards' records. */
export function replayShards(
  paths: readonly string[],
  files: readonly ShardFile[],
  fleet: ShardFleet,
): Replay {
  const { count, shardOf, reach } = fleet;
  const reaches = new Map<string, Map<NodeId, NodeId[]>>();
  for (let j = 1; j <= count; j++)
    for (const cross of [false, true]) reaches.set(checkerKey(j, cross), new Map());
  for (const [s, fs] of reach) {
    const own = shardOf.get(s);
    for (const f of fs) {
      const j = shardOf.get(f);
      const r = j === undefined ? undefined : reaches.get(checkerKey(j, own !== j));
      if (r === undefined) continue;
      const list = r.get(s);
      if (list) list.push(f);
      else r.set(s, [f]);
    }
  }
  const checkers = new Map([...reaches].map(([key, r]) => [key, new SyncChecker(r)]));
  // Each checker's shard and reach, for the pairs of a shard that had stopped.
  const partOf = new Map<SyncChecker, { shard: number; reach: Map<NodeId, NodeId[]> }>();
  for (const [key, r] of reaches)
    partOf.set(checkers.get(key) as SyncChecker, { shard: Number(key.split("/")[0]), reach: r });
  const unjudged = new Map<number, number>();
  const stoppedAt = fleet.stoppedAt ?? new Map<number, number>();
  /** The checkers a press at `t` goes to: those whose shard had not stopped by then. */
  const running = (targets: SyncChecker[], node: NodeId, t: number): SyncChecker[] => {
    if (stoppedAt.size === 0) return targets;
    return targets.filter((c) => {
      const part = partOf.get(c);
      const stop = part === undefined ? undefined : stoppedAt.get(part.shard);
      if (part === undefined || stop === undefined || t <= stop) return true;
      const n = part.reach.get(node)?.length ?? 0;
      unjudged.set(part.shard, (unjudged.get(part.shard) ?? 0) + n);
      return false;
    });
  };
  // A node's applied state matters to its own shard's checkers; its presses to those of its followers too.
  const byShard = new Map<number, SyncChecker[]>();
  for (let j = 1; j <= count; j++)
    byShard.set(j, [checkers.get(checkerKey(j, false)), checkers.get(checkerKey(j, true))] as SyncChecker[]);
  const none: SyncChecker[] = [];
  const ownOf = (node: string): SyncChecker[] => byShard.get(shardOf.get(node) ?? 0) ?? none;
  const pressTo = new Map<string, SyncChecker[]>();
  const pressTargets = (node: NodeId): SyncChecker[] => {
    let to = pressTo.get(node);
    if (to === undefined) {
      const set = new Set(ownOf(node));
      for (const [key, r] of reaches) if (r.has(node)) set.add(checkers.get(key) as SyncChecker);
      to = [...set];
      pressTo.set(node, to);
    }
    return to;
  };
  type Ev = { t: number; kind: 0 | 1 | 2; node: NodeId; stamp: Stamp | undefined };
  const events: Ev[] = [];
  files.forEach((f, i) => {
    const path = paths[i] as string;
    const off = fleet.offsetOf.get(f.shard.index) ?? 0;
    for (const [node, s, t] of f.presses)
      events.push({
        t: t - off,
        kind: s === null ? 1 : 0,
        node: node as NodeId,
        stamp: s === null ? undefined : parseStamp(path, s),
      });
    for (const [node, s, t] of f.applies)
      events.push({ t: t - off, kind: 2, node: node as NodeId, stamp: parseStamp(path, s) });
  });
  // In time order on shard 1's clock; a press before an apply at the same time (stable sort).
  events.sort((a, b) => a.t - b.t || a.kind - b.kind);
  for (const e of events) {
    if (e.kind === 1) for (const c of running(pressTargets(e.node), e.node, e.t)) c.unpublished(e.node, e.t);
    else if (e.kind === 0)
      for (const c of running(pressTargets(e.node), e.node, e.t))
        c.press({ node: e.node, stamp: e.stamp as Stamp, at: e.t });
    else for (const c of ownOf(e.node)) c.applied({ node: e.node, stamp: e.stamp as Stamp, at: e.t });
  }
  for (const c of checkers.values()) c.finish();
  return { checkers, unjudged };
}
