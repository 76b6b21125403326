/**
 * The convergence inputs of a registry's twins, in the order the twins were first seen, brought up
 * to date only for the twins touched since the last look: a pass over a large fleet visits what the
 * messages since the previous pass could have changed, not every twin.
 */
import type { ConvergenceInput } from "./convergence.js";
import { convergenceInputOf, type TwinRecord } from "./twin-record.js";

export interface ConvergenceChanges {
  /** Every twin's input, in the order the twins were first seen (the registry's order). */
  readonly nodes: readonly ConvergenceInput[];
  /** Ascending positions in `nodes` that may differ from the previous look (new twins included). */
  readonly changed: readonly number[];
}

export class ConvergenceInputs {
  private readonly inputs: ConvergenceInput[] = [];
  private readonly records: TwinRecord[] = [];
  private readonly position = new Map<TwinRecord, number>();
  private readonly touched = new Set<TwinRecord>();

  /** A twin first seen: it comes after every twin seen before. */
  added(t: TwinRecord): void {
    this.position.set(t, this.records.length);
    this.records.push(t);
    this.touched.add(t);
  }

  /** The twin's report or config may have changed. */
  touch(t: TwinRecord): void {
    this.touched.add(t);
  }

  /** The inputs now, and where they may have changed since the previous call. */
  take(): ConvergenceChanges {
    const changed: number[] = [];
    for (const t of this.touched) changed.push(this.position.get(t) as number);
    this.touched.clear();
    changed.sort((a, b) => a - b);
    // Ascending, so each new twin's input is appended right after the one before it.
    for (const i of changed) this.inputs[i] = convergenceInputOf(this.records[i] as TwinRecord);
    return { nodes: this.inputs, changed };
  }
}
