/**
 * `twinfleet sim --clock virtual`, headless: whether the run is split over worker threads
 * (fleet/virtual-split.ts) and into which parts. `--workers` (default: cores, at most 4) is the most
 * threads; the fleet is cut between groups only, so a fleet that is one group stays in one thread, as
 * do a run with faults and a watched run (the console, --http: they show one fleet). By default a
 * part has at least MIN_DEFAULT_PART_NODES nodes: below that a thread's start-up and the parts'
 * barriers cost more than the split saves. The report is the same whatever the number of threads.
 * A run that stays in this thread must fit this thread's heap: one that cannot is refused before it
 * starts (V8 would end it minutes later, out of memory), one that barely does gets a warning.
 */

import { getHeapStatistics } from "node:v8";
import { type FleetOptions, type ResolvedFleetOptions, resolveFleetOptions } from "../../fleet/options.js";
import { planFleet } from "../../fleet/setup.js";
import { splitFleet, splitProblem } from "../../fleet/virtual-split.js";
import { UsageError } from "../errors.js";

/**
 * The fewest nodes a part gets when --workers is left to its default. Measured side by side on two
 * busy cores (docs/scale.md): 2,000 nodes × 60 s took 9.8 s over two threads against 8.3 s in one,
 * 5,000 nodes 11.1 s against 15.2 s.
 */
export const MIN_DEFAULT_PART_NODES = 2500;

/**
 * V8 heap a node takes in a virtual run, its twin and its broker session included: 20,000 nodes held
 * 439 MB after a full collection (22 KB each), and 200,000 in one thread ran out of a 4,144 MB heap
 * before they had all registered (docs/cli.md).
 */
export const HEAP_KB_PER_NODE = 24;
/** Past this share of the heap a run spends more and more of its time collecting garbage. */
const HEAP_WARN_SHARE = 0.75;

/**
 * Whether `nodes` on virtual time fit this thread's heap (`limitBytes`, V8's limit): undefined when
 * they do, else what to say and whether the run cannot go on.
 */
export function oneThreadHeap(
  nodes: number,
  limitBytes: number = getHeapStatistics().heap_size_limit,
): { readonly fatal: boolean; readonly text: string } | undefined {
  const needMB = (nodes * HEAP_KB_PER_NODE) / 1024;
  const limitMB = limitBytes / 2 ** 20;
  if (needMB <= limitMB * HEAP_WARN_SHARE) return undefined;
  const gb = (mb: number) => (mb / 1024).toFixed(1);
  const more = Math.ceil((needMB * 1.5) / 1024) * 1024;
  const fix = `give Node more heap (NODE_OPTIONS=--max-old-space-size=${more}), or run it headless (no console, --http or --faults; --workers left out) so that it splits over worker threads, each with a heap for its part`;
  const fatal = needMB > limitMB;
  return {
    fatal,
    text: fatal
      ? `--nodes: ${nodes} nodes in one thread need about ${gb(needMB)} GB of heap, more than this process has (${gb(limitMB)} GB): ${fix}`
      : `${nodes} nodes in one thread need about ${gb(needMB)} GB of heap, near this process's ${gb(limitMB)} GB: garbage collection will slow the run; ${fix}`,
  };
}

export interface VirtualSplitChoice {
  readonly opts: ResolvedFleetOptions;
  readonly ranges: readonly [number, number][];
}

/**
 * The parts of a virtual run over threads, or undefined when it runs in this thread (`note` says why,
 * when threads were to be used). `workersGiven`: --workers was on the command line.
 */
export function chooseVirtualSplit(
  options: FleetOptions,
  watched: boolean,
  workersGiven: boolean,
  note: (line: string) => void,
): VirtualSplitChoice | undefined {
  if (options.clock !== "virtual") return undefined;
  const opts = resolveFleetOptions(options);
  if (watched) {
    if (workersGiven && opts.workers > 0)
      throw new UsageError(
        "--workers with --clock virtual splits a headless run over threads; the console and --http watch one fleet in one thread: leave out --workers, or run --headless without --http",
      );
    return undefined;
  }
  // 0: this thread, as before; by default a fleet too small for two parts (or one core) runs here too.
  const most = workersGiven
    ? opts.workers
    : Math.min(opts.workers, Math.floor(opts.nodes / MIN_DEFAULT_PART_NODES));
  if (most < 2) return undefined;
  const problem = splitProblem(opts);
  if (problem !== undefined) {
    note(`${problem}: the virtual run stays in one thread`);
    return undefined;
  }
  const { ids, pairing } = planFleet(opts);
  const ranges = splitFleet(ids, pairing, Math.min(most, ids.length));
  if (ranges.length === 1) {
    note("the fleet's pairing joins it into one group: the virtual run stays in one thread");
    return undefined;
  }
  return { opts, ranges };
}
