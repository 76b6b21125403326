/**
 * How long the online follower furthest behind has been so: a follower whose direct source holds a
 * newer state than it (`behind` with a `waitingOn`, docs/twins.md "Convergence"), timed from when
 * the twins' convergence first showed it so, or from when it came online if later. The paper's 1 s
 * budget is about this: an update one hop away that has not crossed it. A follower `ahead` (its own
 * press, protocol §4's conflict), one behind only through a node between it and the change that is
 * itself behind, and an offline one are not counted: an offline node is told by its presence.
 * While the service does not hear its broker (lost, silent, not reached yet) its view is not current
 * and nothing is counted (`twinfleet_twins_broker` tells that); once it is back, a follower still
 * behind is timed from then, as the fleet has only then had its chance to catch up.
 */
import type { NodeId } from "../protocol/index.js";
import type { ConvergenceReport, Twins, TwinsEvents } from "../twins/index.js";

/** What the watch reads of a twins service (its `Twins` satisfies it). */
export interface BehindSource extends Pick<Twins, "get" | "convergence" | "waiting"> {
  on<K extends keyof TwinsEvents>(event: K, listener: (...args: TwinsEvents[K]) => void): unknown;
}

/** Starts watching; the returned function reads the longest such time now, in ms (0: none). */
export function behindWatch(twins: BehindSource, now: () => number): () => number {
  const since = new Map<NodeId, number>();
  let heard = twins.waiting === undefined;
  const take = (report: ConvergenceReport) => {
    if (!heard) return;
    const at = now();
    const behind = new Set<NodeId>();
    for (const f of report.followers) {
      if (f.status !== "behind" || f.waitingOn.length === 0) continue;
      behind.add(f.id);
      if (!since.has(f.id)) since.set(f.id, at);
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
    if (since.has(t.id)) since.set(t.id, now());
  });
  return () => {
    if (!heard) return 0;
    const at = now();
    let longest = 0;
    for (const [id, from] of since)
      if (twins.get(id)?.presence === "online") longest = Math.max(longest, at - from);
    return longest;
  };
}
