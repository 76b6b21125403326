/**
 * What a stopping twins service says while its stop waits for a save that its disk does not answer
 * (`Twins.stalledSave`: fsfreeze, a hung disk or network volume). The stop waits for it, without a
 * bound: the change under way was answered to no one yet, and what was answered 200 is on disk
 * already; and no process can end while the kernel holds its write (a SIGKILL leaves a zombie until
 * the file system answers), so an exit would only lose the changes queued behind it. Before, the
 * stop waited with nothing said, and a second SIGTERM was told "a few seconds at most". A stop
 * asked for while the start waits for its data directory (`opening`: twins/store-open-wait.ts,
 * the lock's write held) is told alike: the first signal said nothing, and the second was told "a
 * few seconds at most" of a wait that lasts until the disk answers. A write of the convergence
 * history that hangs (`Twins.stalledHistory`) holds the stop alike, and is told alike: the history
 * is a view, not state, but giving it up would end nothing sooner (the process cannot end before the
 * kernel lets its write go, and the lock it removes next is on the same disk), and would lose the
 * clean stop's record. Before, that wait said nothing (the save's line came once the stop's own last
 * save had stalled too, 5 s on, and named that save alone), and a second signal was told "a few
 * seconds at most".
 */
import type { Logger } from "pino";
import { wholeSeconds } from "../node/writes-under-way.js";
import { shownPath } from "../protocol/shown.js";
import type { Twins } from "./api.js";
import { every, type Scheduler, type Timer } from "./clock.js";
import { SAVE_STALLED_MS } from "./disk-stall.js";

/** How often a stop that waits for a stalled save looks at it. */
export const STOP_WAIT_CHECK_MS = 1_000;
/** How often a stop still waiting for its save says so again. */
export const STOP_WAIT_LOG_MS = 30_000;

/** What a stop waits for: the saver's write and the convergence history's, once stalled. */
type Waited = Pick<Twins, "stalledSave" | "stalledHistory">;

/**
 * The writes a stop waits for, the longest under way first: how they are told, the longest's time,
 * whether one is the saver's (`save`) and the history's (`history`).
 */
function stalledWrites(
  t: Waited | undefined,
): { text: string; forMs: number; save: boolean; history: boolean } | undefined {
  const writes: { text: string; forMs: number }[] = [];
  const save = t?.stalledSave;
  if (save !== undefined)
    writes.push({
      forMs: save.forMs,
      text: `its ${save.what === "test write" ? "test write of" : "save to"} ${save.where}, under way ${wholeSeconds(save.forMs)}`,
    });
  const history = t?.stalledHistory;
  if (history !== undefined)
    writes.push({
      forMs: history.forMs,
      text: `its convergence history's write to ${history.where}, under way ${wholeSeconds(history.forMs)}`,
    });
  if (writes.length === 0) return undefined;
  writes.sort((a, b) => b.forMs - a.forMs);
  return {
    // The wait, as the stop's lines say it: `its save to FILE, under way 12 s: …`.
    text:
      `${writes.map((w) => w.text).join(" and ")}: its disk or file system is not answering (frozen? fsfreeze -u ` +
      "thaws it), and no process ends before its write does, SIGKILL included",
    forMs: writes[0]?.forMs ?? 0,
    save: save !== undefined,
    history: history !== undefined,
  };
}

/** The start's wait, as the lines say it: `its data directory DIR, not answering for 9 s: …`. */
const openingText = (where: string, forMs: number) =>
  `its data directory ${where} to answer, not answering for ${wholeSeconds(forMs)}: its disk or file system is not ` +
  "answering (frozen? fsfreeze -u thaws it), and no process ends before its write does, SIGKILL included";

/** What the start tells of its wait for the data directory (twins/store-open-wait.ts). */
export interface OpeningWatch {
  opening(dir: string, since: number): void;
  opened(): void;
  /** The stop signal asked for, if any: the start that waited then starts nothing. */
  readonly stopping: string | undefined;
}

export class StopWait implements OpeningWatch {
  private timer: Timer | undefined;
  private lastTold: number | undefined;
  /** The writes the last line named: one more stalled since is told at once (one ended is not). */
  private told = { save: false, history: false };
  private twins: Waited | undefined;
  /** The start's wait for its data directory, while it lasts. */
  private openingFrom: { readonly where: string; readonly since: number } | undefined;
  private stoppedBy: string | undefined;

  constructor(
    private readonly sched: Scheduler,
    private readonly logger: Logger,
  ) {}

  /** The service whose saves and history writes a stop waits for, once started. */
  watch(twins: Waited): void {
    this.twins = twins;
  }

  /** The start waits for its data directory `dir` (its lock's write), since `since`. */
  opening(dir: string, since: number): void {
    this.openingFrom = { where: shownPath(dir), since };
  }

  /** The data directory answered (or failed): the start waits no more. */
  opened(): void {
    this.openingFrom = undefined;
  }

  /** The start's wait, once it has lasted `SAVE_STALLED_MS` (as the start tells it). */
  private get openingStalled(): string | undefined {
    const o = this.openingFrom;
    const forMs = o === undefined ? 0 : this.sched.now() - o.since;
    return o === undefined || forMs < SAVE_STALLED_MS ? undefined : openingText(o.where, forMs);
  }

  /** The signal the stop began on, once it has. */
  get stopping(): string | undefined {
    return this.stoppedBy;
  }

  /** The stop began (on `signal`): looks now, then each `STOP_WAIT_CHECK_MS`, until `done`. */
  begin(signal: string): void {
    this.stoppedBy ??= signal;
    if (this.timer !== undefined) return;
    const look = () => {
      const stalled = stalledWrites(this.twins);
      const opening = stalled === undefined ? this.openingStalled : undefined;
      if (stalled === undefined && opening === undefined) return;
      const now = this.sched.now();
      const more =
        (stalled?.save === true && !this.told.save) || (stalled?.history === true && !this.told.history);
      if (this.lastTold !== undefined && now - this.lastTold < STOP_WAIT_LOG_MS && !more) return;
      const again = this.lastTold !== undefined;
      this.lastTold = now;
      this.told = { save: stalled?.save === true, history: stalled?.history === true };
      if (opening !== undefined) {
        this.logger.warn(
          `${signal}: the twins service ${again ? "still waits" : "stops without starting once its data directory has answered; it waits"} for ${opening}; ` +
            "it serves nothing meanwhile (its web server and broker connection are not opened)",
        );
        return;
      }
      if (stalled === undefined) return;
      const ends = stalled.save
        ? `its last save${stalled.history ? " and its convergence history's write have" : " has"}`
        : "its convergence history's write has";
      this.logger.warn(
        { stalledMs: Math.round(stalled.forMs) },
        `${signal}: the twins service ${again ? "still waits" : `stops once ${ends} ended; it waits`} for ${stalled.text}; ` +
          (stalled.save
            ? `commands under way are answered once ${stalled.history ? "the save" : "it"} ends, new ones are refused (the web server is closed)`
            : "its clean stop is recorded in the history then, and new commands are refused (the web server is closed)"),
      );
    };
    this.timer = every(this.sched, STOP_WAIT_CHECK_MS, look);
    look();
  }

  /** What a second stop signal is told: how long the stop waits, if it waits for a save or a history write. */
  againLine(signal: string): string {
    const stalled = stalledWrites(this.twins);
    const opening = this.openingStalled;
    if (stalled === undefined && opening !== undefined)
      return `${signal}: the twins service is stopping already, without starting, waiting for ${opening}; it ends once that write has ended, its lock removed`;
    return stalled === undefined
      ? `${signal}: the twins service is stopping already (its last save, its goodbye to the broker: a few seconds at most); it ends then, its lock removed (SIGKILL ends it at once)`
      : `${signal}: the twins service is stopping already, waiting for ${stalled.text}; it ends once ${stalled.save && stalled.history ? "those writes have" : "that write has"} ended, its lock removed`;
  }

  /** The stop is over: looks no more. */
  done(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
