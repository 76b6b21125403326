// A convergence report for the history tests: `n` followers (n-0000 …), the first `inSync` of them in
// sync and the rest behind.
import { NodeId } from "../../protocol/index.js";
import type { ConvergenceReport } from "../convergence.js";

export function followersReport(inSync: number, n = 4): ConvergenceReport {
  return {
    followers: Array.from({ length: n }, (_, i) => ({
      id: NodeId(`n-${String(i).padStart(4, "0")}`),
      status: i < inSync ? "in-sync" : "behind",
      stamp: undefined,
      target: undefined,
      waitingOn: [],
    })),
    inSync,
    known: n,
    fraction: inSync / n,
  };
}
