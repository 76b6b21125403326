/**
 * CPU and memory of other processes, read from Linux's /proc: a sampler that keeps, per process id,
 * the last CPU time (user + system) and the largest resident set seen. The shard benchmark uses it
 * for the NATS members and the shard processes; a process that has exited keeps its last sample.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat's times; 100 on every Linux this runs on. */
const TICKS_PER_S = 100;

/** CPU seconds (user + system) of process `pid` so far, or undefined when it cannot be read. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const rest = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(rest[11]) + Number(rest[12]);
    return Number.isFinite(ticks) ? ticks / TICKS_PER_S : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set of process `pid` in MB, or undefined when it cannot be read. */
export function rssMB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** The 1-minute load average, or undefined off Linux. */
export function loadAverage(): number | undefined {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}

export interface ProcUse {
  readonly cpuS: number;
  readonly maxRssMB: number;
}

/** Samples named processes every `everyMs` until stop(); stop() returns what each used. */
export class ProcSampler {
  private readonly seen = new Map<string, { pid: number; cpu0: number; cpu: number; rss: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 1000) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  /** Starts counting `pid`'s CPU time from now, under `name`. */
  add(name: string, pid: number | undefined): void {
    if (pid === undefined) return;
    const cpu = cpuSeconds(pid);
    if (cpu === undefined) return;
    this.seen.set(name, { pid, cpu0: cpu, cpu, rss: rssMB(pid) ?? 0 });
  }

  private sample(): void {
    for (const s of this.seen.values()) {
      s.cpu = cpuSeconds(s.pid) ?? s.cpu;
      s.rss = Math.max(s.rss, rssMB(s.pid) ?? 0);
    }
  }

  stop(): Record<string, ProcUse> {
    this.sample();
    clearInterval(this.timer);
    const out: Record<string, ProcUse> = {};
    for (const [name, s] of this.seen)
      out[name] = { cpuS: Math.round((s.cpu - s.cpu0) * 10) / 10, maxRssMB: Math.round(s.rss) };
    return out;
  }
}
