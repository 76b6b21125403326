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
  /** A twin was removed since the previous look: positions moved, and `changed` is not to be trusted. */
  readonly reordered?: boolean;
}

export class ConvergenceInputs {
  private readonly inputs: ConvergenceInput[] = [];
  private readonly records: TwinRecord[] = [];
  /** Positions touched since the last look, each once (a record's `inputTouched` says it is here). */
  private touched: number[] = [];
  private reordered = false;

  /** A twin first seen: it comes after every twin seen before. */
  added(t: TwinRecord): void {
    t.inputAt = this.records.length;
    this.records.push(t);
    this.touch(t);
  }

  /** The twin's report or config may have changed. */
  touch(t: TwinRecord): void {
    // A flag on the record rather than a set of records: this runs for every report.
    if (t.inputTouched) return;
    t.inputTouched = true;
    this.touched.push(t.inputAt);
  }

  /** A twin forgotten: the ones after it move up a place, and the next look starts afresh. */
  remove(t: TwinRecord): void {
    const at = t.inputAt;
    this.records.splice(at, 1);
    this.inputs.splice(at, 1);
    for (let i = at; i < this.records.length; i++) (this.records[i] as TwinRecord).inputAt = i;
    this.touched = this.touched.filter((i) => i !== at).map((i) => (i > at ? i - 1 : i));
    this.reordered = true;
  }

  /** The inputs now, and where they may have changed since the previous call. */
  take(): ConvergenceChanges {
    const changed = this.touched;
    this.touched = [];
    const reordered = this.reordered;
    this.reordered = false;
    changed.sort((a, b) => a - b);
    // Ascending, so each new twin's input is appended right after the one before it.
    for (const i of changed) {
      const t = this.records[i] as TwinRecord;
      t.inputTouched = false;
      this.inputs[i] = convergenceInputOf(t);
    }
    return reordered ? { nodes: this.inputs, changed, reordered } : { nodes: this.inputs, changed };
  }
}
