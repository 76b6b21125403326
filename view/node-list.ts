/**
 * A live fleet's nodes as a view lists them: in id order (as the registry lists them), each found by
 * id in one step, kept up to date one node at a time as events come, each with its sync as the
 * convergence report's status of it (`syncOf`), what waits for it while it is away (`waitsOf`), and
 * its detail (`detailOf`).
 */
import type { NodeId } from "../protocol/index.js";
import type { Scheduler, Twin } from "../twins/index.js";
import type { ConsoleNode, ConsoleSync, NodeDetail, Waits } from "./source.js";

export class NodeList {
  private list: ConsoleNode[] = [];
  private readonly position = new Map<NodeId, number>();

  /** Every node, in id order. */
  all(): readonly ConsoleNode[] {
    return this.list;
  }

  get(id: NodeId): ConsoleNode | undefined {
    const i = this.position.get(id);
    return i === undefined ? undefined : this.list[i];
  }

  /** The whole list at once, already in id order. */
  reset(nodes: ConsoleNode[]): void {
    this.list = nodes;
    this.position.clear();
    for (const [i, n] of nodes.entries()) this.position.set(n.id, i);
  }

  /** A node's summary: replaced in its place, or one not seen before put in its place in id order. */
  put(n: ConsoleNode): void {
    const at = this.position.get(n.id);
    if (at !== undefined) {
      this.list[at] = n;
      return;
    }
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.list[mid] as ConsoleNode).id < n.id) lo = mid + 1;
      else hi = mid;
    }
    this.list.splice(lo, 0, n);
    this.renumber(lo);
  }

  /** Takes a node out, the places after it one up; false when it was not listed. */
  remove(id: NodeId): boolean {
    const i = this.position.get(id);
    if (i === undefined) return false;
    this.list.splice(i, 1);
    this.position.delete(id);
    this.renumber(i);
    return true;
  }

  private renumber(from: number): void {
    for (let i = from; i < this.list.length; i++) this.position.set((this.list[i] as ConsoleNode).id, i);
  }
}

/** A follower's status in the twins' convergence report as the view's sync. */
export function syncOf(status: string): ConsoleSync {
  return status === "in-sync"
    ? "in-sync"
    : status === "behind" || status === "ahead"
      ? "out-of-sync"
      : "unknown";
}

/**
 * What waits for `t` while it is not online, as a summary's `waits` (spread into it): the list showed
 * nothing of a set kept for an offline node, only its detail did. A pairing counts when this view
 * stored it (`commanded`: the page's, the console's) or it would change what the node follows: a
 * service started with no store (a `monitor`'s) holds every offline node's pairing pending, as it
 * cannot tell whose its config is, and marked all of them though nothing was to change.
 * `keptElsewhere`: a present twins service keeps a set for it (twins/kept-sets.ts), which a monitor
 * beside a standalone service did not mark. `followsKnown`: the service has reached its broker, so
 * what the node follows is known; before (a `twins --data` started while its broker is down) nothing
 * is, and every stored pairing read as waiting for its node, confirmed ones included.
 */
export function waitsOf(
  t: Twin,
  commanded = false,
  keptElsewhere = false,
  followsKnown = true,
): { readonly waits?: Waits } {
  if (t.presence === "online") return {};
  const set = t.desired.pendingSet !== undefined || keptElsewhere;
  const want = [...t.desired.sources].sort().join(" ");
  const changes = followsKnown && want !== [...t.follows].sort().join(" ");
  const pairing = t.pairing === "pending" && (commanded || changes);
  if (set && pairing) return { waits: "set and pairing" };
  if (set) return { waits: "set" };
  return pairing ? { waits: "pairing" } : {};
}

/** The detail pane's identity line of `t`: profile, firmware and its bad inputs, "" when none is known. */
export function identityOf(t: Twin, bad: number): string {
  return [t.profile, t.firmware ? `fw ${t.firmware}` : undefined, bad > 0 ? `${bad} bad inputs` : undefined]
    .filter((s) => s !== undefined)
    .join(" ");
}

/**
 * A twin's detail (the console's detail pane, the page's node view): `node` its list entry,
 * `identity` its line (identityOf), its last messages when it is the focused node; times on the
 * view's clock from `origin`, `lastSeenAt` dated by the scheduler's wall time; `kept`, a set another
 * service keeps for it (as `waitsOf` marks it in the list).
 */
export function detailOf(
  t: Twin,
  node: ConsoleNode,
  o: {
    readonly identity: string;
    readonly lastMessages?: NodeDetail["lastMessages"];
    readonly origin: number;
    readonly sched: Scheduler;
    /** The set a present twins service keeps for `t`, as the broker holds it (`Twins.keptSet`). */
    readonly kept?: { readonly on: boolean; readonly by: string } | undefined;
  },
): NodeDetail {
  // Told as another's only where this view's service holds no set of its own (its own is `desired`).
  const kept = t.presence !== "online" && t.desired.pendingSet === undefined ? o.kept : undefined;
  return {
    node,
    follows: t.follows,
    followers: t.followers,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.lastMessages !== undefined ? { lastMessages: o.lastMessages } : {}),
    ...(t.profile !== undefined ? { profile: t.profile } : {}),
    ...(t.firmware !== undefined ? { firmware: t.firmware } : {}),
    presence: t.presence,
    ...(t.lastSeen !== undefined
      ? {
          lastSeen: t.lastSeen - o.origin,
          lastSeenAt: new Date(o.sched.wallNow() - o.sched.now() + t.lastSeen).toISOString(),
          lastSeenAge: Math.max(0, o.sched.now() - t.lastSeen),
        }
      : {}),
    ...(t.registeredAt !== undefined ? { registeredAt: t.registeredAt - o.origin } : {}),
    ...(kept !== undefined ? { keptElsewhere: { on: kept.on, by: kept.by } } : {}),
    desired: {
      ...t.desired, // sources, configVersion and a pendingSet (read-only: the twin replaces it whole)
      pending: t.desired.pendingSet !== undefined || t.pairing === "pending",
      pairingPending: t.pairing === "pending",
    },
  };
}
