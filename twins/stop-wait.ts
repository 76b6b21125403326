/**
 * What a stopping twins service says while its stop waits for a save that its disk does not answer
 * (`Twins.stalledSave`: fsfreeze, a hung disk or network volume). The stop waits for it, without a
 * bound: the change under way was answered to no one yet, and what was answered 200 is on disk
 * already; and no process can end while the kernel holds its write (a SIGKILL leaves a zombie until
 * the file system answers), so an exit would only lose the changes queued behind it. Before, the
 * stop waited with nothing said, and a second SIGTERM was told "a few seconds at most".
 */
import type { Logger } from "pino";
import type { Twins } from "./api.js";
import { every, type Scheduler, type Timer } from "./clock.js";

/** How often a stop that waits for a stalled save looks at it. */
export const STOP_WAIT_CHECK_MS = 1_000;
/** How often a stop still waiting for its save says so again. */
export const STOP_WAIT_LOG_MS = 30_000;

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The wait, as the stop's lines say it: `its save to FILE, under way 12 s, …`. */
export function stalledSaveText(stalled: NonNullable<Twins["stalledSave"]>): string {
  return (
    `its ${stalled.what === "test write" ? "test write of" : "save to"} ${stalled.where}, under way ${seconds(stalled.forMs)}: its disk or file system is not ` +
    "answering (frozen? fsfreeze -u thaws it), and no process ends before its write does, SIGKILL included"
  );
}

export class StopWait {
  private timer: Timer | undefined;
  private lastTold: number | undefined;
  private twins: Pick<Twins, "stalledSave"> | undefined;

  constructor(
    private readonly sched: Scheduler,
    private readonly logger: Logger,
  ) {}

  /** The service whose saves a stop waits for, once started. */
  watch(twins: Pick<Twins, "stalledSave">): void {
    this.twins = twins;
  }

  /** The stop began (on `signal`): looks now, then each `STOP_WAIT_CHECK_MS`, until `done`. */
  begin(signal: string): void {
    if (this.timer !== undefined) return;
    const look = () => {
      const stalled = this.twins?.stalledSave;
      if (stalled === undefined) return;
      const now = this.sched.now();
      if (this.lastTold !== undefined && now - this.lastTold < STOP_WAIT_LOG_MS) return;
      const again = this.lastTold !== undefined;
      this.lastTold = now;
      this.logger.warn(
        { stalledMs: Math.round(stalled.forMs) },
        `${signal}: the twins service ${again ? "still waits" : "stops once its last save has ended; it waits"} for ${stalledSaveText(stalled)}; ` +
          "commands under way are answered once it ends, new ones are refused (the web server is closed)",
      );
    };
    this.timer = every(this.sched, STOP_WAIT_CHECK_MS, look);
    look();
  }

  /** What a second stop signal is told: how long the stop waits, if it waits for a save. */
  againLine(signal: string): string {
    const stalled = this.twins?.stalledSave;
    return stalled === undefined
      ? `${signal}: the twins service is stopping already (its last save, its goodbye to the broker: a few seconds at most); it ends then, its lock removed (SIGKILL ends it at once)`
      : `${signal}: the twins service is stopping already, waiting for ${stalledSaveText(stalled)}; it ends once that write has ended, its lock removed`;
  }

  /** The stop is over: looks no more. */
  done(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
