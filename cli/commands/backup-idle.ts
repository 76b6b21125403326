/**
 * The broker's silence during `twinfleet broker backup` (cli/commands/broker-backup-run.ts),
 * watched on the command's clock: a broker that sends nothing, or sends too little to finish (a
 * trickle: a byte every few seconds), for --idle-timeout while the command waits on it is given up,
 * and what the command itself did not run (kill -STOP of the command, Ctrl-Z, a suspended laptop) is
 * not counted as the broker's silence. A large store's progress is told as it comes.
 */

import { every, type Scheduler, type Timer } from "../../node/scheduler.js";
import { STALL_MIN_MS } from "../../node/stall-watch.js";

/**
 * The least a backup must bring on average, bytes a second, over each --idle-timeout: less is a
 * broker that trickles, not one that serves (a broker sends its snapshot in batches of some hundred
 * kB, each in well under a second; a link of 64 kbit/s brings 8 kB a second). So a store of S bytes
 * takes at most S / 1 KiB s plus one --idle-timeout before it is done or given up.
 */
export const BACKUP_MIN_BYTES_PER_S = 1024;
/** How often a backup under way tells how far it has come, ms on its clock. */
export const BACKUP_PROGRESS_MS = 30_000;

/**
 * While the command waits on the broker (for its answer, for the next chunk of the stream) and not
 * while it writes what came, `idleMs` on `clock` with less than the least it must bring aborts
 * `signal`, and `error` says how long, how little came from where, and how far the backup had come.
 */
export class IdleWatch {
  private readonly abort = new AbortController();
  readonly signal = this.abort.signal;
  error: Error | undefined;
  /** Since when it waits on the broker (undefined: not waiting). */
  private since: number | undefined;
  /** Time waited on the broker, ms, in the current window, before `since`. */
  private waited = 0;
  /** Bytes come in the current window. */
  private windowBytes = 0;
  private bytes = 0;
  private answered = false;
  private lastCheck: number;
  private nextProgress: number;
  private readonly least: number;
  private readonly periodMs: number;
  private readonly timer: Timer;

  constructor(
    private readonly clock: Scheduler,
    private readonly idleMs: number,
    private readonly origin: string,
    private readonly progress: (line: string) => void = () => {},
  ) {
    this.since = clock.now();
    this.lastCheck = this.since;
    this.nextProgress = this.since + BACKUP_PROGRESS_MS;
    this.least = Math.ceil((idleMs / 1000) * BACKUP_MIN_BYTES_PER_S);
    this.periodMs = Math.min(1000, idleMs);
    this.timer = every(clock, this.periodMs, () => this.check());
  }

  /** Waiting on the broker from now. */
  wait(): void {
    this.since = this.clock.now();
  }

  /** Something came: its answer's head (`bytes` 0) or a chunk of the stream. */
  came(bytes: number): void {
    const now = this.clock.now();
    if (this.since !== undefined) this.waited += now - this.since;
    this.since = undefined;
    this.bytes += bytes;
    this.windowBytes += bytes;
    // The answer's head, or enough of the stream: a new window.
    if (!this.answered || this.windowBytes >= this.least) {
      this.waited = 0;
      this.windowBytes = 0;
    }
    this.answered = true;
  }

  cancel(): void {
    this.timer.cancel();
  }

  private check(): void {
    const now = this.clock.now();
    const late = now - this.lastCheck - this.periodMs;
    this.lastCheck = now;
    // The command did not run meanwhile (stopped, suspended): that time is not the broker's silence,
    // and what it sent meanwhile waits in the socket, read once the command runs again.
    if (late >= STALL_MIN_MS && this.since !== undefined) this.since += late;
    if (this.answered && now >= this.nextProgress) {
      this.nextProgress = now + BACKUP_PROGRESS_MS;
      this.progress(`twinfleet broker backup: ${this.bytes} bytes from ${this.origin} so far\n`);
    }
    if (this.error !== undefined || this.since === undefined) return;
    if (this.waited + now - this.since < this.idleMs) return;
    const where = this.answered
      ? `after ${this.bytes} bytes of the backup`
      : "before the start of its answer";
    const s = this.idleMs / 1000;
    this.error = new Error(
      now - this.since >= this.idleMs
        ? `nothing came from the broker at ${this.origin} for ${s} s (--idle-timeout ${this.idleMs}), ${where}: it is stopped (kill -STOP, a host frozen or suspended), or the network between dropped the connection without a word`
        : `only ${this.windowBytes} bytes came from the broker at ${this.origin} in ${s} s (--idle-timeout ${this.idleMs}), under the ${this.least} a backup must bring in that time (${BACKUP_MIN_BYTES_PER_S} a second), ${where}: the broker or the network between hardly moves (a host swapping, a link that drops nearly everything)`,
    );
    this.timer.cancel();
    this.abort.abort(this.error);
  }
}
