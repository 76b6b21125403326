/**
 * The packet loss over a run: it starts at --loss and changes when the console sets it, when a loss
 * fault (loss-step, loss-burst) starts and ends, and when the settle puts it back to 0. This module
 * owns that record — what the report lists and the summary prints — and its time-weighted mean.
 */

export type LossCause = "console" | "fault" | "settle";

export interface LossChange {
  /** From the start of the presses (ms; negative before they started), like the faults' times. */
  readonly atMs: number;
  readonly pct: number;
  readonly by: LossCause;
}

export interface LossReport {
  readonly startPct: number;
  readonly changes: readonly LossChange[];
  /** The loss averaged over the time of the presses (weighted by how long each value held). */
  readonly meanDuringPressesPct: number;
}

/** The loss averaged over [fromMs, toMs] (press-relative ms) given where it started and how it changed. */
export function meanLossPct(
  startPct: number,
  changes: readonly LossChange[],
  fromMs: number,
  toMs: number,
): number {
  if (!(toMs > fromMs)) return startPct;
  let pct = startPct;
  let t = fromMs;
  let area = 0;
  for (const c of changes) {
    if (c.atMs <= fromMs) {
      pct = c.pct;
      continue;
    }
    if (c.atMs >= toMs) break;
    area += pct * (c.atMs - t);
    t = c.atMs;
    pct = c.pct;
  }
  area += pct * (toMs - t);
  return area / (toMs - fromMs);
}

const SHOWN = 6;

/**
 * One phrase for the summary: `10% loss`, or as it changed,
 * `loss 0% → 10% at 12.0 s (console) → 0% at 40.0 s (settle); mean 4.2% during the presses`.
 */
export function describeLoss(r: LossReport): string {
  const changes = r.changes;
  if (changes.length === 0) return `${r.startPct}% loss`;
  const step = (c: LossChange) => `${c.pct}% at ${(c.atMs / 1000).toFixed(1)} s (${c.by})`;
  const head = changes.slice(0, SHOWN).map(step);
  const rest = changes.length > SHOWN ? [`… ${changes.length - SHOWN} more`] : [];
  const mean = Math.round(r.meanDuringPressesPct * 10) / 10;
  return `loss ${[`${r.startPct}%`, ...head, ...rest].join(" → ")}; mean ${mean}% during the presses`;
}

/** The changes of one run, as they happen. */
export class LossLog {
  private readonly changes: LossChange[] = [];

  constructor(private readonly startPct: number) {}

  record(atMs: number, pct: number, by: LossCause): void {
    this.changes.push({ atMs: Math.round(atMs), pct, by });
  }

  /** The report, the mean taken over the presses: from 0 to `pressEndMs` (press-relative). */
  report(pressEndMs: number): LossReport {
    return {
      startPct: this.startPct,
      changes: [...this.changes],
      meanDuringPressesPct: meanLossPct(this.startPct, this.changes, 0, pressEndMs),
    };
  }
}
