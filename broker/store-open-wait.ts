/**
 * The start's wait for its data directory, told. Opening a LevelDB store writes a new log and
 * manifest, and the start then reads the queues and writes its start id (broker/level-store.ts,
 * broker/rollback-queues.ts): on a frozen or hung file system (fsfreeze, a hung disk or network
 * volume) those writes do not end. The broker sat without a line, a listener or `/healthz` until
 * the disk answered; a SIGTERM meanwhile was not told, a second one was told "closing its
 * connections", and at the thaw the broker listened, served `/healthz`, then closed. Now, after
 * `STORE_STALLED_MS` (5 s), one line names the directory, the step it waits on and since when,
 * again every 30 s, and once it answers how long it took and whether the
 * broker starts: a stop asked for meanwhile starts nothing (broker/server.ts). `problem` is what
 * `--http`, opened before the store, answers `/healthz` with meanwhile (web/broker-server.ts). As the twins
 * service's own (twins/store-open-wait.ts). Times come from the injected Scheduler.
 */
import type { Logger } from "pino";
import { every, type Scheduler, type Timer } from "../node/scheduler.js";
import { DISK_NOT_ANSWERING, wholeSeconds } from "../node/writes-under-way.js";
import { STORE_STALLED_MS } from "./store-stall.js";

/** How often a wait still under way is told again. */
export const OPEN_WAIT_RETELL_MS = 30_000;

/** A stop asked for while the broker started on a data directory: it started nothing. */
export class StoppedWhileStarting extends Error {
  constructor(readonly signal: string) {
    super(`${signal} while the broker was starting: it stops without starting`);
  }
}

export class StoreOpenWait {
  #where: string | undefined;
  #step = "";
  #since: number | undefined;
  /** The date the wait began (`wallNow`), as the line shows it. */
  #sinceDate = 0;
  #lastTold: number | undefined;
  #timer: Timer | undefined;
  #stopping: string | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly stalledMs = STORE_STALLED_MS,
  ) {}

  /** The start begins a step on data directory `dir` (`opening it as a LevelDB store`). */
  step(dir: string, what: string): void {
    this.#where = `data directory ${dir}`;
    this.#step = what;
    if (this.#since !== undefined) return;
    this.#since = this.scheduler.now();
    this.#sinceDate = this.scheduler.wallNow();
    this.#timer = every(this.scheduler, 1000, () => this.#look());
  }

  /** The stop signal asked for while starting, if any: the broker then starts nothing. */
  get stopping(): string | undefined {
    return this.#stopping;
  }

  /**
   * A stop asked for (`SIGTERM`): told what it waits for, while the start has waited for its directory
   * `stalledMs` or more (true then).
   */
  stop(signal: string): boolean {
    const again = this.#stopping !== undefined;
    this.#stopping ??= signal;
    const waited = this.waitedMs();
    if (waited === undefined) return false;
    const what = this.#waitText(waited);
    this.logger[again ? "info" : "warn"](
      again
        ? `${signal}: the broker is stopping already, without starting; it ${what}; it ends once that has ended, its directory released`
        : `${signal}: the broker stops without starting once its data directory has answered; it ${what}, and no process ends before its write does, SIGKILL included; its MQTT port is not opened meanwhile (--http answers /healthz 503 until then)`,
    );
    return true;
  }

  /** How long the start has waited on its directory, while that is `stalledMs` or more. */
  waitedMs(): number | undefined {
    if (this.#since === undefined) return undefined;
    const ms = this.scheduler.now() - this.#since;
    return ms >= this.stalledMs ? ms : undefined;
  }

  /** While the start waits `stalledMs` or more: what on (as `/healthz` would name it). */
  get problem(): string | undefined {
    const ms = this.waitedMs();
    return ms === undefined ? undefined : `the start ${this.#waitText(ms)}`;
  }

  #waitText(ms: number): string {
    return `waits for its ${this.#where} to answer (${this.#step}), not answering for ${wholeSeconds(ms)}: ${DISK_NOT_ANSWERING}`;
  }

  #look(): void {
    const since = this.#since;
    if (since === undefined) return;
    const now = this.scheduler.now();
    if (now - since < this.stalledMs) return;
    if (this.#lastTold !== undefined && now - this.#lastTold < OPEN_WAIT_RETELL_MS) return;
    this.#lastTold = now;
    const then = this.#stopping === undefined ? "starts" : "stops without starting";
    this.logger.warn(
      { waitedMs: Math.round(now - since), step: this.#step },
      `broker: the ${this.#where} has not answered in ${wholeSeconds(now - since)} (${this.#step}, since ${new Date(this.#sinceDate).toISOString()}): ${DISK_NOT_ANSWERING}; the broker ${then} once it does, and no process ends before its write does, SIGKILL included`,
    );
  }

  /** The directory answered (or failed): told, if the wait was. */
  done(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    const since = this.#since;
    if (since === undefined || this.#lastTold === undefined) {
      this.#since = undefined;
      return;
    }
    this.#since = undefined;
    const ms = this.scheduler.now() - since;
    this.logger.info(
      { waitedMs: Math.round(ms) },
      `broker: the ${this.#where} answered after ${wholeSeconds(ms)}: ` +
        (this.#stopping === undefined
          ? "the broker starts"
          : `the broker stops without starting (${this.#stopping})`),
    );
  }
}
