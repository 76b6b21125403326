/**
 * The pairing in force at the nodes while a run goes on. A run starts from its topology, but its
 * nodes may be paired otherwise mid-run — through the run's console or web page, through a twins
 * service it joined (its page, `twinfleet pair`) — and a node follows what its config says from the
 * moment it adopts it. The run judged every press against the topology it started with: a node
 * re-paired through the joined service's API made it count the presses its old source no longer
 * sent it as lost, and the node as diverged. Each node says when its sources change (the `sources`
 * event: a config adopted, a follow or unfollow carried out); this keeps the pairing those events
 * make, for the checker (each press judged against the pairing at the nodes when it happened), the
 * divergence check at the end, and the report's `pairingChanges`.
 */
import type { NodeId } from "../protocol/index.js";
import type { Pairing } from "../sim/topology.js";
import { sameSet } from "../twins/index.js";

/** One node's change of sources, on the run's clock. */
export interface PairingChange {
  readonly at: number;
  readonly node: NodeId;
  readonly sources: readonly NodeId[];
  readonly was: readonly NodeId[];
}

/** The report's account of the changes; times from the start of the presses (ms). */
export interface PairingChangesReport {
  /** Changes of a node's sources seen (a node re-paired twice counts twice). */
  readonly changes: number;
  /** Nodes whose sources changed at least once. */
  readonly nodes: number;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  /** Nodes whose sources at the end differ from the run's topology. */
  readonly differAtEnd: number;
  /** The first changes, in order. */
  readonly list: readonly {
    readonly atMs: number;
    readonly node: string;
    readonly follows: readonly string[];
    readonly followed: readonly string[];
  }[];
}

/** How many changes the report lists, and the run logs one line each for. */
export const PAIRING_CHANGES_LISTED = 50;

export class LivePairing {
  private readonly now: Map<NodeId, readonly NodeId[]>;
  /** The pairing the changes are told against: the topology, and what nodes outside the fleet followed when first seen. */
  private readonly base: Map<NodeId, readonly NodeId[]>;
  readonly changes: PairingChange[] = [];

  constructor(topology: Pairing) {
    this.now = new Map(topology);
    this.base = new Map(topology);
  }

  /** follower → its sources, as the nodes follow them now. */
  get current(): Pairing {
    return this.now;
  }

  /** `node` follows `sources` from `at` on; the change, or undefined when it follows them already. */
  update(node: NodeId, sources: readonly NodeId[], at: number): PairingChange | undefined {
    const was = this.now.get(node) ?? [];
    if (sameSet(was, sources)) return undefined;
    if (sources.length === 0) this.now.delete(node);
    else this.now.set(node, [...sources]);
    const change = { at, node, sources: [...sources], was };
    this.changes.push(change);
    return change;
  }

  /**
   * A node outside the fleet (a board, a stand-in) follows `sources` as it is first seen: its
   * pairing from then on, not a change of it (fleet/outside-nodes.ts).
   */
  include(node: NodeId, sources: readonly NodeId[]): void {
    if (this.base.has(node)) return;
    this.base.set(node, [...sources]);
    this.now.set(node, [...sources]);
  }

  /** What the report says of the changes (times from `originMs`), or undefined when there were none. */
  report(originMs: number): PairingChangesReport | undefined {
    const first = this.changes[0];
    const last = this.changes.at(-1);
    if (first === undefined || last === undefined) return undefined;
    const ms = (t: number) => Math.round((t - originMs) * 10) / 10;
    let differAtEnd = 0;
    for (const id of new Set([...this.base.keys(), ...this.now.keys()])) {
      if (!sameSet(this.base.get(id) ?? [], this.now.get(id) ?? [])) differAtEnd++;
    }
    return {
      changes: this.changes.length,
      nodes: new Set(this.changes.map((c) => c.node)).size,
      firstAtMs: ms(first.at),
      lastAtMs: ms(last.at),
      differAtEnd,
      list: this.changes.slice(0, PAIRING_CHANGES_LISTED).map((c) => ({
        atMs: ms(c.at),
        node: c.node,
        follows: c.sources,
        followed: c.was,
      })),
    };
  }
}

/**
 * The run's log line for the `nth` change (from 1): one for each of the first PAIRING_CHANGES_LISTED,
 * then one saying the rest are only counted, then none.
 */
export function pairingChangeLine(c: PairingChange, nth: number): string | undefined {
  if (nth === PAIRING_CHANGES_LISTED + 1)
    return `pairing changed at the nodes ${nth} times: further changes are not logged one by one (the report's pairingChanges counts them)`;
  if (nth > PAIRING_CHANGES_LISTED) return undefined;
  const list = (s: readonly NodeId[]) => (s.length === 0 ? "nobody" : s.join(", "));
  return `pairing changed at the nodes: ${c.node} now follows ${list(c.sources)} (it followed ${list(c.was)}); presses from then on are judged against the new pairing`;
}
