/**
 * Which twin gives way when the registry is full (`--max-nodes`) and a node it does not know speaks:
 * one that holds nothing anyone needs — not online, no desired pairing or set, following no one and
 * followed by no one — the one heard from longest ago (never: first). Without it, twins made up by a
 * client on the LAN (registers under invented ids) were stored, came back with every restart, and
 * kept real nodes out for good (`too-many-nodes`), with no way to forget them.
 */
import type { NodeId } from "../protocol/index.js";
import type { FollowGraph } from "./follow-graph.js";
import { followed, type TwinRecord } from "./twin-record.js";
import { followedSourcesMoved } from "./twin-versions.js";

/**
 * Whether `t` may be forgotten: nothing of it is needed by the fleet or by a pairing (`desiredSources`:
 * every desire's sources, when known).
 */
export function forgettable(
  t: TwinRecord,
  graph: FollowGraph,
  desiredSources?: ReadonlySet<NodeId>,
): boolean {
  return (
    t.presence !== "online" &&
    t.desired.sources.length === 0 &&
    t.desired.pendingSet === undefined &&
    followed(t).length === 0 &&
    graph.followers(t.id).length === 0 &&
    desiredSources?.has(t.id) !== true
  );
}

/** After a look found none to forget, this many newcomers are refused before the next look. */
const REFUSALS_PER_LOOK = 1000;

/**
 * Makes room at the limit: the forgettable twins, stalest first, found by one look over the fleet
 * and taken one per newcomer (each checked again when taken), so a flood of new ids costs one look
 * per queue, not one per message; after a look finds none, the next comes after REFUSALS_PER_LOOK
 * refusals. What it forgot is handed to the next message's effects.
 */
export class Room {
  private queue: TwinRecord[] = [];
  private next = 0;
  private refusalsToLook = 0;
  private readonly forgotten: NodeId[] = [];

  constructor(
    private readonly twins: Map<NodeId, TwinRecord>,
    private readonly graph: FollowGraph,
    private readonly inputs: { remove(t: TwinRecord): void },
    /** What else is kept of a node, dropped with its twin (its bad-input count). */
    private readonly dropped: (id: NodeId) => void = () => {},
  ) {}

  /** Forgets the stalest twin no one needs; false when none may go. */
  make(): boolean {
    for (;;) {
      if (this.next === this.queue.length) {
        if (this.refusalsToLook > 0) {
          this.refusalsToLook--;
          return false;
        }
        this.queue = candidates(this.twins, this.graph);
        this.next = 0;
        if (this.queue.length === 0) {
          this.refusalsToLook = REFUSALS_PER_LOOK;
          return false;
        }
      }
      const t = this.queue[this.next++] as TwinRecord;
      // Still so (a pairing desired with it as a source since the look is not seen here: rare, and
      // the source comes back as a new twin when it speaks).
      if (this.twins.get(t.id) !== t || !forgettable(t, this.graph)) continue;
      this.graph.forget(t);
      this.inputs.remove(t);
      this.twins.delete(t.id);
      this.dropped(t.id);
      this.forgotten.push(t.id);
      return true;
    }
  }

  /**
   * Forgets `id` whatever it holds (an operator retired the node: twins/retire.ts): it follows no one
   * from now on, and its followers' configs naming it are left to change. Returns the sources it
   * left (their followers changed: twins/twin-versions.ts); undefined for an unknown id.
   */
  remove(id: NodeId): ReturnType<typeof followedSourcesMoved> | undefined {
    const t = this.twins.get(id);
    if (t === undefined) return undefined;
    const before = followed(t);
    t.config = undefined;
    t.nodeConfig = undefined;
    this.graph.refollow(t, before);
    this.graph.forget(t);
    this.inputs.remove(t);
    this.twins.delete(id);
    this.dropped(id);
    return followedSourcesMoved(this.twins, before, []);
  }

  /** `effects` after the `forgotten` effects of what was forgotten since the last call. */
  drain<E>(effects: E[]): E[] {
    if (this.forgotten.length === 0) return effects;
    const gone = this.forgotten.splice(0).map((node) => ({ type: "forgotten", node }) as E);
    return gone.concat(effects);
  }
}

function desiredSourcesOf(twins: ReadonlyMap<NodeId, TwinRecord>): Set<NodeId> {
  const set = new Set<NodeId>();
  for (const t of twins.values()) for (const s of t.desired.sources) set.add(s);
  return set;
}

/** Every twin that may be forgotten now, heard from longest ago first (never: first). */
function candidates(twins: ReadonlyMap<NodeId, TwinRecord>, graph: FollowGraph): TwinRecord[] {
  const desired = desiredSourcesOf(twins);
  // Never heard first; `-Infinity - -Infinity` would be NaN, which sort takes as anything.
  const heard = (t: TwinRecord) => t.lastSeen ?? Number.NEGATIVE_INFINITY;
  return [...twins.values()]
    .filter((t) => forgettable(t, graph, desired))
    .sort((x, y) => (heard(x) < heard(y) ? -1 : heard(x) > heard(y) ? 1 : 0));
}
