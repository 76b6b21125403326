/**
 * Nodes on the run's broker and prefix that are not the run's own: real boards and host stand-ins of
 * the firmware core (`firmware/standin`) paired with the fleet's simulated nodes — a mixed fleet. The
 * run's checker used to hear only its own nodes: a board's press that its simulated followers had to
 * carry, and a simulated press that a board following it had to show, were neither counted nor
 * judged, so a board hung for 30 s, out of sync all along, left the report at `lost 0`. The run's
 * twins service sees every node's retained report and config; this turns what it sees of the others
 * into the collector's events: a new stamp of the node's own (a press, or a set) is a press, any
 * other newer stamp is that node applying what it follows, and a change of its config is a change of
 * the pairing. Each is timed when the twins service heard it: a press when its report arrived (a
 * press held offline when the node published it), an application when the node re-published it.
 * Simulated nodes of another fleet (`kind` sim) are left alone: their figures are that fleet's.
 */
import type { NodeEvent } from "../node/metrics.js";
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";
import { sameSet, type Twin } from "../twins/index.js";

/** The report's account of the nodes outside the fleet that were judged with it. */
export interface OutsideNodesReport {
  /** Nodes seen on the broker that are not the fleet's (and not another fleet's simulated ones). */
  readonly nodes: number;
  /** The first ten, in the order they were seen. */
  readonly ids: readonly string[];
  /** New stamps of their own (presses, sets) judged as presses. */
  readonly presses: number;
  /** Of them, the nodes that followed at least one node at the end. */
  readonly followers: number;
}

/** What the outside nodes feed into: the collector's queue, and its pairing for a node seen first. */
export interface OutsideSink {
  push(events: readonly NodeEvent[]): void;
  /** `node` follows `sources` as it is first seen: not a change of the pairing, only its reach. */
  include(node: NodeId, sources: readonly NodeId[]): void;
}

/** The part of the run's twins service this reads. */
export interface OutsideFeed {
  list(): readonly Twin[];
  on(event: "twin-updated" | "twin-registered" | "twin-online", fn: (t: Twin) => void): unknown;
}

interface Seen {
  stamp: Stamp | undefined;
  follows: readonly NodeId[];
}

export const OUTSIDE_IDS_LISTED = 10;

export class OutsideNodes {
  private readonly seen = new Map<NodeId, Seen>();
  /** Seen, then found to be another fleet's simulated node: ignored from then on. */
  private readonly dropped = new Set<NodeId>();
  private presses = 0;
  private watching = false;
  private feed: OutsideFeed | undefined;

  constructor(
    private readonly fleet: ReadonlySet<string>,
    private readonly sink: OutsideSink,
    private readonly now: () => number,
  ) {}

  /**
   * Watches `feed`: the twins it knows now, then each register and return; once an outside node is
   * known, every update (a view made per message only from then on: the fleet alone costs nothing).
   */
  watch(feed: OutsideFeed): void {
    this.feed = feed;
    const take = (t: Twin) => {
      this.twin(t);
      if (this.seen.size === 0 || this.watching) return;
      this.watching = true;
      feed.on("twin-updated", (u) => this.twin(u));
    };
    feed.on("twin-registered", take);
    feed.on("twin-online", take);
    for (const t of feed.list()) take(t);
  }

  /** A twin's view now: the fleet's own and another fleet's simulated nodes are ignored. */
  twin(t: Twin): void {
    const id = t.id;
    if (this.fleet.has(id) || this.dropped.has(id)) return;
    if (t.kind === "sim") {
      if (this.seen.delete(id)) this.dropped.add(id);
      return;
    }
    const at = this.now();
    const stamp = t.reported?.stamp;
    const on = t.reported?.on ?? false;
    const was = this.seen.get(id);
    if (was === undefined) {
      // Only a node on line is part of the mixed fleet: the retained copies of nodes gone (an earlier
      // run's, a board away) were counted as 80 outside nodes, and their old stamps as presses.
      if (t.presence !== "online") return;
      this.seen.set(id, { stamp, follows: [...t.follows] });
      if (t.follows.length > 0) this.sink.include(id, t.follows);
      // What it holds as it is first seen: a press later reaching it is judged against it.
      if (stamp) this.sink.push([{ type: "applied", node: id, at, stamp, on, via: "report" }]);
      return;
    }
    const events: NodeEvent[] = [];
    if (!sameSet(was.follows, t.follows)) {
      was.follows = [...t.follows];
      events.push({ type: "sources", node: id, at, sources: was.follows });
    }
    if (stamp && (was.stamp === undefined || compareStamps(stamp, was.stamp) > 0)) {
      // The first stamp heard of it is what it holds (its report at its first sync), not a press.
      const first = was.stamp === undefined;
      was.stamp = stamp;
      if (stamp.origin === id && !first) {
        this.presses++;
        events.push({ type: "press", node: id, at, ledAt: at, stamp });
      } else events.push({ type: "applied", node: id, at, stamp, on, via: "report" });
    }
    if (events.length > 0) this.sink.push(events);
  }

  /** The outside nodes seen that are offline now, as the twins service shows them (a board switched off). */
  away(): ReadonlySet<NodeId> {
    const off = new Set<NodeId>();
    for (const t of this.feed?.list() ?? [])
      if (this.seen.has(t.id) && t.presence === "offline") off.add(t.id);
    return off;
  }

  /** `id` is a node outside the fleet, seen. */
  has(id: NodeId): boolean {
    return this.seen.has(id);
  }

  /** What the report says of them, or undefined when there were none. */
  report(): OutsideNodesReport | undefined {
    if (this.seen.size === 0) return undefined;
    let followers = 0;
    for (const s of this.seen.values()) if (s.follows.length > 0) followers++;
    return {
      nodes: this.seen.size,
      ids: [...this.seen.keys()].slice(0, OUTSIDE_IDS_LISTED),
      presses: this.presses,
      followers,
    };
  }
}

/** A run's outside nodes, judged with its fleet once its twins service (if any) reports them. */
export function watchOutside(
  twins: OutsideFeed | undefined,
  ids: readonly NodeId[],
  sink: OutsideSink,
  now: () => number,
): OutsideNodes | undefined {
  if (twins === undefined) return undefined;
  const outside = new OutsideNodes(new Set(ids), sink, now);
  outside.watch(twins);
  return outside;
}
