/**
 * Feeds a board's NodeCore one input and prices the step in the board's CPU cycles (core-cost.ts):
 * what the core did with the input (its outputs, whether the sync completed or its grace had run
 * out) decides which measured operation it cost. The board (board.ts) charges the cycles to its CPU.
 */
import type { NodeCore } from "./core.js";
import { type CoreCycles, type CoreStep, coreCost } from "./core-cost.js";
import type { CoreInput, CoreOutput } from "./core-io.js";

/** What a step holds between `feed`s: nothing of the last one (its input and outputs can go). */
const STEP_DONE: CoreStep = {
  input: { type: "tick" },
  outputs: [],
  phaseBefore: "offline",
  phaseAfter: "offline",
  graceExpired: false,
};
/** The step `feed` prices, refilled for each (every board's: coreCost reads it during the call only). */
const STEP: { -readonly [K in keyof CoreStep]: CoreStep[K] } = { ...STEP_DONE };

export class CoreFeed {
  /** The cycles of the last step (`feed`). */
  cycles = 0;

  constructor(
    private readonly core: NodeCore,
    private readonly coreCycles: CoreCycles,
  ) {}

  /** Runs the core on `input` at `at`, prices what it did (`cycles`), returns its outputs. */
  feed(input: CoreInput, at: number): CoreOutput[] {
    const phaseBefore = this.core.syncPhase;
    const graceExpired = phaseBefore === "syncing" && at >= this.core.syncDeadline;
    const outs = this.core.handle(input, at);
    STEP.input = input;
    STEP.outputs = outs;
    STEP.phaseBefore = phaseBefore;
    STEP.phaseAfter = this.core.syncPhase;
    STEP.graceExpired = graceExpired;
    this.cycles = coreCost(this.coreCycles, STEP);
    STEP.input = STEP_DONE.input;
    STEP.outputs = STEP_DONE.outputs;
    return outs;
  }
}
