/**
 * The report's modeled CPU figures (`cpu.meanPct`, `p99Pct`, `maxPct`): the nodes' utilizations
 * gathered at 0.0001 % steps and reported to 4 decimals. A run at a press a minute keeps an Uno busy
 * about 0.03 % of the time, an idle one about 0.002 % (keepalive alone, docs/device-model.md §"Modeled
 * CPU utilization"): gathered at 0.01 % steps and rounded to 2 decimals the idle fleet read 0.00 %,
 * and a day of presses 0.03 % whether it was 0.025 or 0.034.
 */
import { Distribution } from "../sim/histogram.js";
import type { Report } from "./report.js";

/** Steps per percent point: 0.0001 %. */
const CPU_SCALE = 10_000;
/** Decimals a figure keeps in the report and in a shard report's finals. */
const CPU_DECIMALS = 4;

/** A distribution of the nodes' CPU utilization in percent (0-100). */
export function cpuDistribution(): Distribution {
  return new Distribution(CPU_SCALE, 100);
}

/** `pct` as the report keeps it. */
export function cpuRounded(pct: number): number {
  const f = 10 ** CPU_DECIMALS;
  return Math.round(pct * f) / f;
}

/** The report's `cpu` section from the nodes' distribution. */
export function cpuFigures(d: Distribution): Report["cpu"] {
  const s = d.summary();
  return { meanPct: cpuRounded(s.mean), p99Pct: cpuRounded(s.p99), maxPct: cpuRounded(s.max) };
}
