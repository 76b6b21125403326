/**
 * Loss processes for one direction of a link: independent (Bernoulli) losses or the bursty
 * Gilbert–Elliott two-state chain. Each call to `lost()` is one transmission attempt of one segment.
 */

import { z } from "zod";
import { assertNever } from "../protocol/index.js";
import type { Random } from "./rng.js";

const probability = z.number().min(0).max(1);

export const lossSpecSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }).strict(),
  z.object({ kind: z.literal("bernoulli"), p: probability }).strict(),
  z
    .object({
      kind: z.literal("gilbert-elliott"),
      /** Per attempt: chance to move from the good to the bad state, and back. */
      pGoodToBad: probability,
      pBadToGood: probability,
      /** Loss probability in each state. */
      lossGood: probability,
      lossBad: probability,
    })
    .strict(),
]);

export type LossSpec = z.infer<typeof lossSpecSchema>;

export const NO_LOSS: LossSpec = { kind: "none" };

/** The sender's per-attempt failure when each direction loses packets independently with `q`:
 * an attempt fails (for its retry count) if the data or its ACK is lost. The link draws the two
 * apart (node/tcp-sender.ts); this is the analytic figure for docs and checks. */
export function attemptLossFromPacketLoss(q: number): number {
  return 1 - (1 - q) * (1 - q);
}

/** The long-run loss rate of a spec. */
export function meanLoss(spec: LossSpec): number {
  switch (spec.kind) {
    case "none":
      return 0;
    case "bernoulli":
      return spec.p;
    case "gilbert-elliott": {
      const d = spec.pGoodToBad + spec.pBadToGood;
      const bad = d === 0 ? 0 : spec.pGoodToBad / d;
      return (1 - bad) * spec.lossGood + bad * spec.lossBad;
    }
    default:
      assertNever(spec);
  }
}

export class LossProcess {
  private bad = false;

  constructor(
    private spec: LossSpec,
    private readonly rand: Random,
  ) {}

  /** Changes the loss while running; a Gilbert–Elliott chain keeps its current state. */
  set(spec: LossSpec): void {
    this.spec = spec;
    if (spec.kind !== "gilbert-elliott") this.bad = false;
  }

  get current(): LossSpec {
    return this.spec;
  }

  /** Whether `lost()` is false whatever happens, drawing nothing: no loss, or a probability of 0. */
  get certain(): boolean {
    const s = this.spec;
    return s.kind === "none" || (s.kind === "bernoulli" && !(s.p > 0));
  }

  lost(): boolean {
    const s = this.spec;
    switch (s.kind) {
      case "none":
        return false;
      case "bernoulli":
        return s.p > 0 && this.rand() < s.p;
      case "gilbert-elliott": {
        const lost = this.rand() < (this.bad ? s.lossBad : s.lossGood);
        this.bad = this.bad ? this.rand() >= s.pBadToGood : this.rand() < s.pGoodToBad;
        return lost;
      }
      default:
        assertNever(s);
    }
  }
}
