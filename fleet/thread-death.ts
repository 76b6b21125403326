/**
 * The death of one of a wall-time run's threads (the broker's, or a worker thread running a shard of
 * nodes): out of memory, or an uncaught error. What it was, in one line, and the run's record of the
 * first such death, which ends the run there (its report then holds what was measured until then).
 */
import type { BrokerHost } from "./broker-host.js";

/** A thread of the run that died: the report's `threadDied`. */
export interface ThreadDeath {
  /** `broker`, `broker-process` (`--broker-process`), or `worker-N` (the shard of nodes it ran). */
  readonly thread: string;
  /** What ended it, in words. */
  readonly reason: string;
  /** Its JS heap reached its limit. */
  readonly outOfMemory: boolean;
  /** Seconds from the run's start. */
  readonly atS: number;
  /** A worker thread: how many nodes it ran (their final states are unknown, not judged for divergence). */
  readonly nodes?: number;
  /** A fleet merged from shards (`twinfleet report merge`): the shard whose thread it was. */
  readonly shard?: number;
}

/** Node's code for a worker thread ended at its heap limit (its `resourceLimits`, or the process's). */
const OUT_OF_MEMORY = "ERR_WORKER_OUT_OF_MEMORY";

/** A thread's end at its heap limit, in words. */
export const OUT_OF_MEMORY_REASON = "out of memory: its JS heap reached its limit";

/** What to do about a thread ended for the open-files limit (cli/file-limit.ts says it for a start). */
export const OUT_OF_FILES_REASON =
  'the process\'s open-files limit is too low: raise it before starting (as root `ulimit -n`, LimitNOFILE= in a systemd unit, --ulimit nofile= for a container; docs/cli.md, "The open files a command needs to start")';

/** Whether `text` (a Worker's error, V8's last line on a process's stderr) says the JS heap ran out. */
export function saysOutOfMemory(text: string): boolean {
  return /reaching memory limit|heap out of memory/i.test(text);
}

/** The cause of a thread's end, from what its Worker (or piscina's task) rejected or emitted with. */
export function threadCause(e: unknown): { readonly reason: string; readonly outOfMemory: boolean } {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  if (code === OUT_OF_MEMORY || saysOutOfMemory(err.message))
    return { reason: OUT_OF_MEMORY_REASON, outOfMemory: true };
  // Each worker thread loads its modules as it starts, all at once: under a low `ulimit -n` one is
  // refused (a run of 5 nodes on the embedded broker, 2 workers, under 192), said as a file's error.
  if (code === "EMFILE" || code === "ENFILE" || /(?:^|: )E[MN]FILE\b/.test(err.message))
    return { reason: `${err.message}; ${OUT_OF_FILES_REASON}`, outOfMemory: false };
  return { reason: err.message === "" ? err.name : err.message, outOfMemory: false };
}

/** A thread of the run (the names of the report's `sim.threads`), for a person. */
export function threadName(thread: string): string {
  if (thread === "main") return "the main thread (twins service, collector)";
  if (thread === "broker") return "the embedded broker's thread";
  if (thread === "twins") return "the twins service";
  if (thread === "broker-process") return "the broker's process";
  return `worker thread ${thread.replace(/^worker-/, "")}`;
}

/** Who it was, for a person: `the embedded broker's thread`, `shard 2's worker thread 1 (500 nodes)`. */
function whichThread(d: ThreadDeath): string {
  if (!d.thread.startsWith("worker-")) return threadName(d.thread);
  const of = d.shard !== undefined ? `shard ${d.shard}'s ` : "";
  return `${of}${threadName(d.thread)}${d.nodes !== undefined ? ` (${d.nodes} nodes)` : ""}`;
}

/**
 * The shards' first thread death (their own start's seconds), named with its shard, for a fleet
 * merged from them: each such shard ended there, and its line says so.
 */
export function shardsThreadDied(
  shards: readonly { readonly shard: { readonly index: number }; readonly threadDied?: ThreadDeath }[],
): { threadDied?: ThreadDeath } {
  const all = shards.flatMap((s) => (s.threadDied ? [{ ...s.threadDied, shard: s.shard.index }] : []));
  const first = all.sort((a, b) => a.atS - b.atS)[0];
  return first !== undefined ? { threadDied: first } : {};
}

/** One line: which thread died, when and why, and that the run ended there. */
export function threadDeathLine(d: ThreadDeath): string {
  const more = d.outOfMemory
    ? " (give the process more heap: NODE_OPTIONS=--max-old-space-size=MB, or run fewer nodes)"
    : "";
  return `${whichThread(d)} died ${d.atS.toFixed(0)} s into the run, ${d.reason}${more}: the run ended there`;
}

/** The first thread death of a run; later ones (the run already ending) are only counted. */
export class ThreadDeaths {
  first: ThreadDeath | undefined;

  constructor(
    private readonly elapsedS: () => number,
    /** Told once, at the first death: the run ends. */
    private readonly onFirst: (d: ThreadDeath, line: string) => void,
  ) {}

  died(thread: string, e: unknown, nodes?: number): void {
    if (this.first !== undefined) return;
    const d: ThreadDeath = {
      thread,
      ...threadCause(e),
      atS: Math.round(this.elapsedS() * 10) / 10,
      ...(nodes !== undefined ? { nodes } : {}),
    };
    this.first = d;
    this.onFirst(d, threadDeathLine(d));
  }
}

/**
 * A run's record of its threads' deaths: the first is logged on `run` (an error line) and cuts it
 * short; the broker's thread is watched when it is one of this process's.
 */
export function runDeaths(
  run: { emit(e: "log", line: string, level: "error"): unknown; cut(): void },
  broker: Pick<BrokerHost, "onDied" | "kind">,
  elapsedS: () => number,
): ThreadDeaths {
  const deaths = new ThreadDeaths(elapsedS, (_, line) => {
    run.emit("log", line, "error");
    run.cut();
  });
  broker.onDied?.((e) => deaths.died(brokerThread(broker), e));
  return deaths;
}

/** The report's name of the run's broker's thread: `broker`, or `broker-process`. */
const brokerThread = (broker: Pick<BrokerHost, "kind">) =>
  broker.kind === "process" ? "broker-process" : "broker";

/**
 * Listens, while a run starts (before its nodes do), for its broker's death; `error(e)` is then
 * the start's failure: that death in one line, not what the twins service's connection said of it
 * (`cannot reach the broker … connection reset`, from a broker process out of memory).
 */
export function startDeaths(broker: Pick<BrokerHost, "onDied" | "kind">, elapsedS: () => number) {
  let first: ThreadDeath | undefined;
  broker.onDied?.((e) => {
    first ??= { thread: brokerThread(broker), ...threadCause(e), atS: Math.round(elapsedS() * 10) / 10 };
  });
  return {
    get died(): boolean {
      return first !== undefined;
    },
    error: (e: unknown): unknown =>
      first === undefined
        ? e
        : new Error(`${threadDeathLine(first)}, before its nodes started: nothing was measured`),
  };
}
