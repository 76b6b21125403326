/**
 * The convergence inputs of a registry's twins, in the order the twins were first seen, brought up
 * to date only for the twins touched since the last look: a pass over a large fleet visits what the
 * messages since the previous pass could have changed, not every twin.
 */
import type { NodeId } from "../protocol/index.js";
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
  /** Forgotten since the last look: taken out of the arrays at the next look, all at once. */
  private readonly removed = new Set<TwinRecord>();

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

  /**
   * Twins whose presence moved in `fx` to or from offline: an offline node passes nothing on to its
   * followers (twins/convergence.ts), so their statuses may move with it. Returns `fx`.
   */
  presenceMoved<E extends { readonly type: string; readonly node?: NodeId }>(
    twins: ReadonlyMap<NodeId, TwinRecord>,
    fx: E[],
  ): E[] {
    for (const e of fx) {
      if (e.type !== "online" && e.type !== "offline" && e.type !== "unheard") continue;
      const t = e.node === undefined ? undefined : twins.get(e.node);
      if (t && (t.convergence?.offline ?? false) !== (t.presence === "offline")) this.touch(t);
    }
    return fx;
  }

  /** A twin forgotten: at the next look the ones after it move up, and that look starts afresh. */
  remove(t: TwinRecord): void {
    this.removed.add(t);
  }

  /** Takes the forgotten twins out in one pass, the positions touched moved with their twins. */
  private compact(): void {
    const at = new Int32Array(this.records.length).fill(-1);
    let n = 0;
    for (let i = 0; i < this.records.length; i++) {
      const t = this.records[i] as TwinRecord;
      if (this.removed.has(t)) continue;
      at[i] = n;
      t.inputAt = n;
      this.records[n] = t;
      this.inputs[n] = this.inputs[i] as ConvergenceInput;
      n++;
    }
    this.records.length = n;
    this.inputs.length = Math.min(this.inputs.length, n);
    this.touched = this.touched.map((i) => at[i] ?? -1).filter((i) => i >= 0);
    this.removed.clear();
  }

  /** The inputs now, and where they may have changed since the previous call. */
  take(): ConvergenceChanges {
    const reordered = this.removed.size > 0;
    if (reordered) this.compact();
    const changed = this.touched;
    this.touched = [];
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
