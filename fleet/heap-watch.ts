/**
 * The run's threads' heaps against their limits: a thread whose heap, after a full collection, holds
 * HEAP_WARN_SHARE of its limit or more is told once, in one line, before it runs out of memory (a
 * thread there spends more and more of its time collecting, lags, then dies: fleet/thread-death.ts).
 */
import { HeapLive, type HeapReading } from "../node/heap-live.js";
import { semiSpaceAskedMB } from "./part-young.js";
import { threadName } from "./thread-death.js";

/** Live heap past this share of the limit: the thread is near its end. */
export const HEAP_WARN_SHARE = 0.8;

/** V8's semi-space when none is asked for (MB, 64-bit). */
const SEMI_SPACE_DEFAULT_MB = 16;

/**
 * The young generation inside V8's heap limit (MB), from this process's flags: three semi-spaces
 * (`heap_size_limit` is 198 MB under `--max-old-space-size=150`, 342 MB with `--max-semi-space-size=64`
 * too). What is live after a full collection is in the old generation, whose limit is the rest.
 */
export function youngGenerationMB(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): number {
  const asked = semiSpaceAskedMB([...(nodeOptions ?? "").split(/\s+/).filter((s) => s !== ""), ...execArgv]);
  return 3 * (asked ?? SEMI_SPACE_DEFAULT_MB);
}

export class HeapWatch {
  private readonly warned = new Set<string>();

  /** `youngMB`: the young generation in each thread's limit (the threads share the process's flags). */
  constructor(
    private readonly warn: (line: string) => void,
    private readonly youngMB = youngGenerationMB(),
  ) {}

  /** A thread's latest reading: told once when its live heap is near its old generation's limit. */
  observe(thread: string, r: HeapReading | undefined): void {
    if (r?.liveMB === undefined || this.warned.has(thread)) return;
    const limitMB = Math.max(1, r.limitMB - this.youngMB);
    if (r.liveMB < limitMB * HEAP_WARN_SHARE) return;
    this.warned.add(thread);
    const pct = Math.round((r.liveMB / limitMB) * 100);
    this.warn(
      `${threadName(thread)}: its JS heap holds ${r.liveMB} MB after a full collection, ${pct} % of its ${limitMB} MB limit: it will slow down, then die out of memory; give the process more heap (NODE_OPTIONS=--max-old-space-size=MB) or run fewer nodes`,
    );
  }
}

/**
 * A process of one thread (`twinfleet twins`) looking at its own heap after each full collection:
 * there, running out of memory is V8's fatal error, which ends the process with no word of ours, so
 * this line is the only one (a service whose store or broker holds more nodes than its heap died
 * 2.2 s after it started, under --max-old-space-size=44).
 */
export function watchOwnHeap(
  name: string,
  warn: (line: string) => void,
  heap: (onMajor: (r: HeapReading) => void) => Pick<HeapLive, "stop"> = (onMajor) => new HeapLive(onMajor),
): { stop(): void } {
  const watch = new HeapWatch(warn);
  return heap((r) => watch.observe(name, r));
}
