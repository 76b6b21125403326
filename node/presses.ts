/**
 * Button press plans: seeded Poisson presses, bursts ("spam press") and scripted times. A plan keeps
 * one pending timer at a time, so a fleet of nodes costs one timer per active plan.
 */

import { z } from "zod";
import { assertNever } from "../protocol/index.js";
import { exponential, type Random } from "./rng.js";
import type { Scheduler, Timer } from "./scheduler.js";

const time = z.number().finite().nonnegative();

export const pressPlanSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("poisson"),
      ratePerSec: z.number().finite().positive(),
      from: time.optional(),
      until: time.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("burst"),
      at: time,
      count: z.number().int().positive(),
      intervalMs: time,
    })
    .strict(),
  z.object({ kind: z.literal("script"), times: z.array(time) }).strict(),
]);

export type PressPlan = z.infer<typeof pressPlanSchema>;

/** Starts a plan; returns a handle that stops it. Times are on the scheduler's clock. */
export function runPressPlan(
  plan: PressPlan,
  sched: Scheduler,
  rand: Random,
  press: (at: number) => void,
): Timer {
  let timer: Timer | undefined;
  let stopped = false;
  // A press whose instant has passed when the one before it is taken (a busy host held that one's
  // timer) is taken at once, in the same turn: set as a timer of its own, it waited behind whatever
  // else had come due meanwhile, and a run's end of presses, due after it, cancelled it (a shard on
  // a host at load average 20 reported 12 presses, ignored ones included, of the 13 planned).
  const step = (next: () => number | undefined) => {
    for (;;) {
      const at = next();
      if (at === undefined || stopped) return;
      if (at >= sched.now()) {
        timer = sched.at(at, () => {
          press(at);
          step(next);
        });
        return;
      }
      press(at);
    }
  };
  switch (plan.kind) {
    case "poisson": {
      const mean = 1000 / plan.ratePerSec;
      const until = plan.until ?? Number.POSITIVE_INFINITY;
      let t = plan.from ?? sched.now();
      step(() => {
        t += exponential(rand, mean);
        return t < until ? t : undefined;
      });
      break;
    }
    case "burst": {
      let i = 0;
      step(() => (i < plan.count ? plan.at + plan.intervalMs * i++ : undefined));
      break;
    }
    case "script": {
      const times = [...plan.times].sort((a, b) => a - b);
      let i = 0;
      step(() => times[i++]);
      break;
    }
    default:
      assertNever(plan);
  }
  return {
    cancel: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
