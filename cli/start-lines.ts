/**
 * A run's start told while it lasts (`twinfleet sim`, one process or a shard): the progress lines
 * begin once its nodes boot, and before them a start that waits (on a broker's answer, on ids in use
 * going offline) printed nothing. Every progress interval it says how long it has been starting and
 * the step under way; a stop during it is answered at once with the step it ends.
 */
import { every, type Scheduler, type Timer } from "../node/scheduler.js";

export interface StartLines {
  /** The step under way, as the start tells it (fleet/start-control.ts). */
  step(what: string): void;
  /** What the start is doing now, in words for a person. */
  readonly doing: string;
  /** The line for a stop heard during the start. */
  stopLine(signal: NodeJS.Signals): string;
  /** The start is over (the run under way, or the start failed or was stopped). */
  end(): void;
}

/** Starts telling a start's steps on `note` every `everyMs` (the progress interval) until end(). */
export function startLines(sched: Scheduler, everyMs: number, note: (line: string) => void): StartLines {
  const began = sched.now();
  let doing = "starting";
  const timer: Timer = every(sched, everyMs, () => {
    const s = Math.round((sched.now() - began) / 1000);
    note(`starting (${s} s): ${doing}; the progress lines begin once the nodes boot`);
  });
  return {
    step: (what) => {
      doing = what;
    },
    get doing() {
      return doing;
    },
    stopLine: (signal) =>
      `${signal}: stopping the start (it was ${doing}); nothing has run; a second stop ends it at once`,
    end: () => timer.cancel(),
  };
}
