/**
 * How long the online follower furthest behind has been so: a follower whose direct source holds a
 * newer state than it (`behind` with a `waitingOn`, docs/twins.md "Convergence"), timed from when
 * the twins' convergence first showed it so, or from when it came online if later. The paper's 1 s
 * budget is about this: an update one hop away that has not crossed it. A follower `ahead` (its own
 * press, protocol §4's conflict), one behind only through a node between it and the change that is
 * itself behind, and an offline one are not counted: an offline node is told by its presence.
 * Convergence reports come at most every 100 ms (longer in a large fleet), so a read also asks the
 * twins now: a follower whose report has since caught up with every source it waited on is not
 * counted, though the report that says so is still to come.
 * While the service does not hear its broker (lost, silent, not reached yet) its view is not current
 * and nothing is counted (`twinfleet_twins_broker` tells that); once it is back, a follower still
 * behind is timed from then, as the fleet has only then had its chance to catch up.
 */
import { isNewer, type NodeId } from "../protocol/index.js";
import type { ConvergenceReport, Twins, TwinsEvents } from "../twins/index.js";

/** What the watch reads of a twins service (its `Twins` satisfies it). */
export interface BehindSource extends Pick<Twins, "get" | "convergence" | "waiting"> {
  on<K extends keyof TwinsEvents>(event: K, listener: (...args: TwinsEvents[K]) => void): unknown;
}

/** Starts watching; the returned function reads the longest such time now, in ms (0: none). */
export function behindWatch(twins: BehindSource, now: () => number): () => number {
  // Each follower behind: since when, and the direct sources it waited on.
  const since = new Map<NodeId, { from: number; waitingOn: readonly NodeId[] }>();
  let heard = twins.waiting === undefined;
  const take = (report: ConvergenceReport) => {
    if (!heard) return;
    const at = now();
    const behind = new Set<NodeId>();
    for (const f of report.followers) {
      if (f.status !== "behind" || f.waitingOn.length === 0) continue;
      behind.add(f.id);
      const was = since.get(f.id);
      since.set(f.id, { from: was?.from ?? at, waitingOn: f.waitingOn });
    }
    for (const id of since.keys()) if (!behind.has(id)) since.delete(id);
  };
  take(twins.convergence());
  twins.on("convergence", take);
  twins.on("broker", (connected) => {
    heard = connected;
    since.clear();
    if (connected) take(twins.convergence());
  });
  // Back online behind: it has had no chance to catch up before now.
  twins.on("twin-online", (t) => {
    const was = since.get(t.id);
    if (was !== undefined) since.set(t.id, { from: now(), waitingOn: was.waitingOn });
  });
  return () => {
    if (!heard) return 0;
    const at = now();
    let longest = 0;
    for (const [id, { from, waitingOn }] of since)
      if (stillBehind(twins, id, waitingOn)) longest = Math.max(longest, at - from);
    return longest;
  };
}

/** Online, and a source it waited on still holds a newer report than its own (or it has none). */
function stillBehind(twins: BehindSource, id: NodeId, waitingOn: readonly NodeId[]): boolean {
  const twin = twins.get(id);
  if (twin?.presence !== "online") return false;
  const own = twin.reported?.stamp;
  if (own === undefined) return true;
  return waitingOn.some((w) => {
    const theirs = twins.get(w)?.reported?.stamp;
    return theirs !== undefined && isNewer(theirs, own);
  });
}
