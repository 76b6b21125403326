/**
 * Convergence: which followers hold the newest stamp of everything upstream of them, and which do
 * not. Pure: takes the reported graph (each node's retained config and report) and returns a report;
 * the definition it implements is written out in docs/twins.md ("Convergence").
 */
import { compareStamps, type NodeId, type Stamp } from "../protocol/index.js";

/** What convergence needs to know of one node: its reported stamp and the sources it follows. */
export interface ConvergenceInput {
  readonly id: NodeId;
  /** The node's reported stamp; undefined when no report has been seen. */
  readonly stamp: Stamp | undefined;
  /** The sources of the node's reported config (what it actually follows). */
  readonly sources: readonly NodeId[];
  /**
   * The node is known to be cut off from the broker (its will or `T1 0` seen): it passes nothing on,
   * so what is upstream of it reaches its followers only as far as its own last report.
   */
  readonly offline?: boolean;
}

/**
 * - `in-sync`: the follower's stamp equals the newest stamp upstream of it.
 * - `behind`: a node upstream holds a newer stamp; an update is on its way (or was lost).
 * - `ahead`: the follower holds a newer event of its own (a press or a set) that its sources never
 *   received — the conflict of protocol.md §4; only a newer event upstream brings it back.
 * - `unknown`: the follower has not reported, or none of its upstream nodes has.
 */
export type SyncStatus = "in-sync" | "behind" | "ahead" | "unknown";

export interface FollowerSync {
  readonly id: NodeId;
  readonly status: SyncStatus;
  readonly stamp: Stamp | undefined;
  /** The newest stamp among the nodes upstream of this one (transitively, itself excluded). */
  readonly target: Stamp | undefined;
  /** Direct sources whose stamp is newer than this node's: the next hop the update must cross. */
  readonly waitingOn: readonly NodeId[];
}

export interface ConvergenceReport {
  /** Followers (nodes with at least one source), sorted by id. */
  readonly followers: readonly FollowerSync[];
  readonly inSync: number;
  /** Followers whose status is known (not `unknown`): the fraction's denominator. */
  readonly known: number;
  /** inSync / known; 1 when no follower is known (an empty or unpaired fleet is in sync). */
  readonly fraction: number;
}

/**
 * Computes every follower's status in O(nodes + edges): strongly connected components of the follow
 * graph (Tarjan), then the newest stamp reachable from each component in reverse topological order.
 * Inside a cycle a node's upstream holds every other member of the cycle, so each component keeps
 * its two newest members and a node excludes itself by taking the other one.
 */
export function computeConvergence(nodes: readonly ConvergenceInput[]): ConvergenceReport {
  return convergenceOf(nodes, true);
}

/**
 * computeConvergence's work; with `sorted` false the followers come in no set order (for a caller
 * that files them by id anyway: sorting every id of a large fleet on each pass was a part of its cost).
 */
export function convergenceOf(nodes: readonly ConvergenceInput[], sorted: boolean): ConvergenceReport {
  // Nodes by number, in the order their ids first appear (a repeated id: the last entry counts).
  const index = new Map<NodeId, number>();
  const inputs: ConvergenceInput[] = [];
  for (const n of nodes) {
    const i = index.get(n.id);
    if (i === undefined) {
      index.set(n.id, inputs.length);
      inputs.push(n);
    } else inputs[i] = n;
  }
  const { g, real, stampOf, targets, cycle } = targetsOf(inputs, index, true);
  // Only with a node offline can the cut graph differ from the whole one (full: computed on demand).
  let full: Int32Array | undefined;

  const followers: FollowerSync[] = [];
  let inSync = 0;
  let known = 0;
  const order = sorted ? [...index.keys()].sort(byBytes).map((id) => index.get(id) as number) : undefined;
  for (let k = 0; k < inputs.length; k++) {
    const i = order ? (order[k] as number) : k;
    const node = inputs[i] as ConvergenceInput;
    if (node.sources.length === 0) continue;
    const target = targets[i];
    let status = statusOf(node.stamp, target);
    if (status === "ahead" && g.ghostOf.length > 0) {
      // Ahead of what can reach it, on a cycle an offline node broke: its event is on its way
      // round and comes back once the cut heals, as any newer one beyond the cut reaches it then.
      full ??= targetsOf(inputs, index, false).cycle;
      if ((full[i] as number) > (cycle[i] as number)) status = "in-sync";
    }
    const own = node.stamp;
    // Its known sources, in order, are its edges (an unknown one has no stamp to wait on).
    let waitingOn: NodeId[] | undefined;
    if (own !== undefined) {
      for (let e = g.start[i] as number; e < (g.start[i + 1] as number); e++) {
        const j = g.edges[e] as number;
        const st = stampOf(j);
        if (st !== undefined && compareStamps(st, own) > 0) {
          waitingOn ??= [];
          waitingOn.push((inputs[real(j)] as ConvergenceInput).id);
        }
      }
    }
    if (status !== "unknown") known++;
    if (status === "in-sync") inSync++;
    // Most followers wait on nobody: they share one empty list (a report is kept a while).
    followers.push({ id: node.id, status, stamp: own, target, waitingOn: waitingOn ?? WAITING_ON_NONE });
  }
  return { followers, inSync, known, fraction: known === 0 ? 1 : inSync / known };
}

/**
 * The graph and, by input number, each input's target (the newest stamp upstream of it, itself
 * excluded) and `cycle`, the size of its strongly connected component (1: on no cycle). `cut`: an
 * offline node passes on its own stamp only (followGraph); otherwise the whole graph.
 */
function targetsOf(inputs: readonly ConvergenceInput[], index: ReadonlyMap<NodeId, number>, cut: boolean) {
  const g = followGraph(inputs, index, cut);
  const comp = tarjan(g);
  // A graph node past the inputs stands for an offline input as its followers see it (followGraph).
  const real = (i: number): number => (i < inputs.length ? i : (g.ghostOf[i - inputs.length] as number));
  const stampOf =
    g.ghostOf.length === 0
      ? (i: number): Stamp | undefined => (inputs[i] as ConvergenceInput).stamp
      : (i: number): Stamp | undefined => (inputs[real(i)] as ConvergenceInput).stamp;

  // Tarjan emits components so that every component reachable from C is emitted before C.
  const count = comp.start.length - 1;
  const upstreamMax: (Stamp | undefined)[] = new Array(count);
  const top1 = new Int32Array(count).fill(-1);
  const top2 = new Int32Array(count).fill(-1);
  const componentMax = (ci: number): Stamp | undefined => {
    const t = top1[ci] as number;
    return t < 0 ? undefined : stampOf(t);
  };
  for (let ci = 0; ci < count; ci++) {
    let best: Stamp | undefined;
    let first = -1;
    let second = -1;
    for (let k = comp.start[ci] as number; k < (comp.start[ci + 1] as number); k++) {
      const m = comp.members[k] as number;
      for (let e = g.start[m] as number; e < (g.start[m + 1] as number); e++) {
        const cs = comp.of[g.edges[e] as number] as number;
        if (cs !== ci) {
          best = newest(best, upstreamMax[cs]);
          best = newest(best, componentMax(cs));
        }
      }
      const st = stampOf(m);
      if (st === undefined) continue;
      const f = first < 0 ? undefined : stampOf(first);
      if (f === undefined || compareStamps(st, f) > 0) {
        second = first;
        first = m;
      } else {
        const s2 = second < 0 ? undefined : stampOf(second);
        if (s2 === undefined || compareStamps(st, s2) > 0) second = m;
      }
    }
    upstreamMax[ci] = best;
    top1[ci] = first;
    top2[ci] = second;
  }

  const targets: (Stamp | undefined)[] = new Array(inputs.length);
  const cycle = new Int32Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const ci = comp.of[i] as number;
    let target = upstreamMax[ci];
    cycle[i] = (comp.start[ci + 1] as number) - (comp.start[ci] as number);
    if ((cycle[i] as number) > 1) {
      const other = top1[ci] === i ? top2[ci] : top1[ci];
      target = newest(target, other === undefined || other < 0 ? undefined : stampOf(other));
    }
    targets[i] = target;
  }
  return { g, real, stampOf, targets, cycle };
}

const WAITING_ON_NONE: readonly NodeId[] = Object.freeze([]);

function statusOf(stamp: Stamp | undefined, target: Stamp | undefined): SyncStatus {
  if (stamp === undefined || target === undefined) return "unknown";
  const c = compareStamps(stamp, target);
  return c === 0 ? "in-sync" : c < 0 ? "behind" : "ahead";
}

function newest(a: Stamp | undefined, b: Stamp | undefined): Stamp | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareStamps(a, b) >= 0 ? a : b;
}

function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The follow graph by node number: node i's known sources, in order, are edges[start[i]..start[i+1]).
 * Nodes past the inputs are the offline inputs `ghostOf` names, as sources without sources.
 */
interface Graph {
  readonly start: Int32Array;
  readonly edges: Int32Array;
  readonly ghostOf: Int32Array;
}

/**
 * Each node's sources among the known nodes (a source no entry names adds nothing upstream). An
 * edge to an offline source goes to a node of its own with the source's stamp and no sources: the
 * follower can have what the source held when it was cut off, not what came upstream of it since
 * (docs/twins.md, "Convergence"). The offline node itself still follows its sources.
 */
function followGraph(
  inputs: readonly ConvergenceInput[],
  index: ReadonlyMap<NodeId, number>,
  cut: boolean,
): Graph {
  let start = new Int32Array(inputs.length + 1);
  const edges: number[] = [];
  // A ghost's number is known when it is first needed: the inputs', then the ghosts' in that order.
  let ghostAt: Map<number, number> | undefined;
  const ghostOf: number[] = [];
  for (let i = 0; i < inputs.length; i++) {
    for (const s of (inputs[i] as ConvergenceInput).sources) {
      const j = index.get(s);
      if (j === undefined) continue;
      if (!cut || (inputs[j] as ConvergenceInput).offline !== true) {
        edges.push(j);
        continue;
      }
      ghostAt ??= new Map();
      let ghost = ghostAt.get(j);
      if (ghost === undefined) {
        ghost = inputs.length + ghostOf.length;
        ghostAt.set(j, ghost);
        ghostOf.push(j);
      }
      edges.push(ghost);
    }
    start[i + 1] = edges.length;
  }
  if (ghostOf.length > 0) {
    const longer = new Int32Array(inputs.length + ghostOf.length + 1).fill(edges.length);
    longer.set(start);
    start = longer;
  }
  return { start, edges: Int32Array.from(edges), ghostOf: Int32Array.from(ghostOf) };
}

interface Components {
  /** Members of component c, in the order they left Tarjan's stack: members[start[c]..start[c+1]). */
  readonly start: Int32Array;
  readonly members: Int32Array;
  /** Each node's component. Components come in an order where every one reachable from C is before C. */
  readonly of: Int32Array;
}

/** Iterative Tarjan (fleets can form chains longer than the call stack allows), on node numbers. */
function tarjan(g: Graph): Components {
  const n = g.start.length - 1;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  const of = new Int32Array(n);
  const members = new Int32Array(n);
  let placed = 0;
  const starts: number[] = [0];
  // The walk's frames: a node and the position of the next of its edges to look at.
  const workNode = new Int32Array(n);
  const workNext = new Int32Array(n);
  let depth = 0;
  let counter = 0;
  const enter = (v: number): void => {
    order[v] = counter;
    low[v] = counter++;
    stack[top++] = v;
    onStack[v] = 1;
    workNode[depth] = v;
    workNext[depth++] = g.start[v] as number;
  };

  for (let root = 0; root < n; root++) {
    if ((order[root] as number) >= 0) continue;
    enter(root);
    while (depth > 0) {
      const v = workNode[depth - 1] as number;
      const next = workNext[depth - 1] as number;
      if (next < (g.start[v + 1] as number)) {
        workNext[depth - 1] = next + 1;
        const s = g.edges[next] as number;
        if ((order[s] as number) < 0) enter(s);
        else if (onStack[s] === 1) low[v] = Math.min(low[v] as number, order[s] as number);
        continue;
      }
      depth--;
      if (depth > 0) {
        const parent = workNode[depth - 1] as number;
        low[parent] = Math.min(low[parent] as number, low[v] as number);
      }
      if (low[v] === order[v]) {
        const c = starts.length - 1;
        for (;;) {
          const m = stack[--top] as number;
          onStack[m] = 0;
          of[m] = c;
          members[placed++] = m;
          if (m === v) break;
        }
        starts.push(placed);
      }
    }
  }
  return { start: Int32Array.from(starts), members, of };
}
