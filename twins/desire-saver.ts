/**
 * Saving the desired state: saves run one at a time, and changes made during a save are written by
 * one more save after it, so a burst of changes costs at most two writes. A save starts once the I/O
 * ready now has been handled, so the changes of one batch of messages (a fleet registering: a
 * thousand confirmations at once) cost one snapshot, not one each; with `spacing`, a save also waits
 * until `gapMs` after the last one started (a large fleet's snapshot walks every twin). A failed save
 * (a full disk) is logged once, then at most once a minute while saves keep failing, and retried every
 * `SAVE_RETRY_MS` on the scheduler, so the desire reaches the disk once it has room even when nothing
 * changes any more; the service keeps serving from memory meanwhile. A save whose disk has not answered
 * after `SAVE_STALLED_MS` (a frozen or hung disk: nothing fails; its walk and its slices between two
 * disk operations are not timed, twins/disk-stall.ts) is told once, and the store is behind the
 * service until it ends (`unsavedSince`, `unsavedCause`: `/healthz`). A directory that turns
 * read-only, full or frozen while nothing changes is found by a test write every `WRITE_PROBE_MS`
 * (store-dir.ts), failing or stalling as a save: logged, retried, `/healthz` (twins/disk-stall.ts).
 * After `kill` nothing more is written. The snapshot dates the nodes' last messages by the host's clock (stored-dates.ts): when
 * that clock steps (NTP setting a board that booted in 1970), the state is saved again within
 * `STEP_CHECK_MS`, so a restart does not read dates from the clock before the step.
 *
 * A store with a journal (`append`: twins/store-journal.ts) is given only the records of the nodes
 * named since the last write, each save one append: the spacing is for whole saves alone (the
 * first, after a step of the clock, after a failure, and the last as the service stops, which
 * folds the journal in).
 */
import { dirname } from "node:path";
import type { Logger } from "pino";
import { FAILURE_LOG_MS, FailureLog, isReadOnly, READ_ONLY_ADVICE } from "../node/failure-log.js";
import { CLOCK_STEP_MS } from "../node/scheduler.js";
import type { StallWatch } from "../node/stall-watch.js";
import { shownPath } from "../protocol/shown.js";
import type { Twins } from "./api.js";
import { every, hostTurn, type Scheduler, type Timer } from "./clock.js";
import { DiskStall } from "./disk-stall.js";
import type { DesiredRecord, StoredState, TwinsStore } from "./store.js";
import type { Whole } from "./store-slices.js";

/** What a saver writes: the whole state, or the records of some nodes (undefined: out of the store). */
export interface SavedState {
  /** Whole: taken at once, or a slice at a time (store-slices.ts), changes made meanwhile in the next write. */
  whole(): Whole;
  records(nodes: ReadonlySet<string>): Map<string, DesiredRecord | undefined>;
  /** At most `limit` nodes heard later than their stored dates, those stored longest ago first. */
  datesBehind?(limit: number): readonly string[];
}

export interface SaveSpacing {
  readonly scheduler: Scheduler;
  /** The least time between the starts of two saves, asked before each (0: none). */
  readonly gapMs: () => number;
  /** The service's own stalls (node/stall-watch.ts): no write waits on its disk while it does not run. */
  readonly stalls?: StallWatch | undefined;
}

/** How long after a failed save the next attempt starts. */
export const SAVE_RETRY_MS = 5_000;
/** A save that keeps failing is logged again at most this often. */
export const SAVE_FAILURE_LOG_MS = FAILURE_LOG_MS;

export { SAVE_STALLED_MS } from "./disk-stall.js";

/**
 * How often a saver with nothing to save makes a test write of the store's directory: a data
 * directory remounted read-only (or filled) under a fleet that changes nothing was found only by the
 * next save, which a fleet with no presses and no new nodes never makes (`/healthz` stayed 200 for as
 * long as it stayed quiet, and the next pairing was the first to fail).
 */
export const WRITE_PROBE_MS = 30_000;

/** How often a saver looks whether the host's clock has stepped since its last save. */
export const STEP_CHECK_MS = 60_000;
/**
 * How often a saver stores the last-seen dates of the nodes heard since it last did (a store with a
 * place only): what a service killed without a goodbye (kill -9, a power cut) leaves behind, for a
 * fleet of up to DATES_MAX_NODES nodes heard, at most.
 */
export const DATES_EVERY_MS = STEP_CHECK_MS;
/**
 * The most nodes whose dates one look stores, those stored longest ago first: each record appended
 * is serialised on the main thread, and 100,000 of them held the event loop over a
 * second each minute, so a fleet of N nodes heard keeps its stored dates at most
 * ceil(N / DATES_MAX_NODES) minutes behind (20,000: 4; 100,000: 20).
 */
export const DATES_MAX_NODES = 5_000;

/** " to DIR/twins.json", or nothing for a store with no place. */
const toWhere = (store: TwinsStore) => (store.where === undefined ? "" : ` to ${store.where}`);

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class DesireSaver {
  /** The chain of saves; each resolves to why it failed (or nothing was written: killed), undefined once written. */
  private saving: Promise<string | undefined> = Promise.resolve(undefined);
  private queued = false;
  /** The nodes changed since the last write began; `all`: the next write is whole. */
  private dirty = new Set<string>();
  private all = false;
  /** A journaled store written since the last save of a stop: the last save folds its journal in. */
  private unfolded = false;
  private closing = false;
  private killed = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  /** Failed saves, logged; while `failing`, the store is behind the service. */
  private readonly failures: FailureLog;
  private retry: Timer | undefined;
  private lastError: unknown;
  /** The save under way (the store's call), while one is; told once it has stalled. */
  private writing: number | undefined;
  /** The saves and test writes under way, and their stall (twins/disk-stall.ts). */
  private readonly stall: DiskStall;
  /** `wallNow() - now()` at the last save's start: a step of the host's clock moves it. */
  private savedOffset: number | undefined;
  private readonly stepWatch: Timer | undefined;
  private readonly probeWatch: Timer | undefined;
  /** A test write is under way (a frozen disk holds it: no other starts meanwhile, and it stalls as a save). */
  private probing = false;
  private readonly state: SavedState;
  private readonly wholeOnly: boolean;

  constructor(
    private readonly store: TwinsStore,
    state: (() => StoredState) | SavedState,
    private readonly logger: Logger,
    private readonly spacing?: SaveSpacing,
  ) {
    this.state =
      typeof state === "function"
        ? { whole: state, records: () => new Map() } // no records: every save whole
        : state;
    this.wholeOnly = typeof state === "function" || this.store.append === undefined;
    const to = toWhere(store);
    this.failures = new FailureLog(
      logger,
      {
        first: (reason) =>
          `twins: the desired state cannot be saved${to} (${reason}); the service keeps ` +
          `serving and holds it in memory, retrying every ${SAVE_RETRY_MS / 1000} s: ` +
          `${isReadOnly(reason) ? READ_ONLY_ADVICE : "free space on the disk"}, as a restart now would start from the last saved state`,
        still: `twins: the desired state still cannot be saved${to}`,
        again: `twins: the desired state is saved again${to}`,
        countField: "failedSaves",
      },
      () => spacing?.scheduler.now() ?? 0,
    );
    const sched = spacing?.scheduler;
    const dir = store.where === undefined ? undefined : shownPath(dirname(store.where));
    this.stall = new DiskStall(
      sched,
      logger,
      {
        save: { stalled: `a save of the desired state${to}`, ended: `the save${to}` },
        "test write": {
          stalled: `a test write of the data directory${dir === undefined ? "" : ` ${dir}`}`,
          ended: `the test write${dir === undefined ? "" : ` of ${dir}`}`,
        },
      },
      spacing?.stalls,
    );
    if (sched)
      this.stepWatch = every(sched, STEP_CHECK_MS, () => {
        const moved = Math.abs(sched.wallNow() - sched.now() - (this.savedOffset ?? Number.NaN));
        if (moved >= CLOCK_STEP_MS) this.save();
        else this.saveHeard();
      });
    if (sched && store.probe) this.probeWatch = every(sched, WRITE_PROBE_MS, () => this.probe());
  }

  /**
   * A test write of the store's directory, while no save is queued, under way or failing (those find
   * the disk themselves): one that fails counts as a failed save (logged, retried every
   * `SAVE_RETRY_MS`, `/healthz` 503), until a save succeeds; one that has not ended after
   * `SAVE_STALLED_MS` (a frozen disk) as a stalled save, until it ends. A save asked for meanwhile
   * does not wait for it: it begins at once, on the same disk, and is timed from its own start.
   */
  private probe(): void {
    const store = this.store;
    if (store.probe === undefined || this.probing || this.killed || this.closing) return;
    if (this.queued || this.writing !== undefined || this.failures.failing) return;
    this.probing = true;
    const token = this.stall.began("test write");
    store.probe().then(
      () => {
        this.probing = false;
        this.stall.ended(token);
      },
      (err: unknown) => {
        this.probing = false;
        this.stall.ended(token);
        if (!this.killed && !this.closing && !this.failures.failing) this.failed(err);
      },
    );
  }

  /**
   * The dates of the nodes heard since they were stored, at most DATES_MAX_NODES of them, stored (one
   * append; whole where the store has none).
   */
  private saveHeard(): void {
    if (this.store.where === undefined || this.state.datesBehind === undefined) return; // in memory: nothing outlives the process
    const heard = this.state.datesBehind(DATES_MAX_NODES);
    if (heard.length === 0) return;
    for (const id of heard) this.note(id);
    this.save(heard[0]); // whole where the store has no journal
  }

  /**
   * The desire of `node` changed (none named: the whole state is to be written): write it after any
   * save under way.
   */
  save(node?: string): void {
    if (this.killed) return;
    if (node === undefined || this.wholeOnly) this.all = true;
    else this.dirty.add(node);
    if (this.queued) return;
    this.queued = true;
    this.saving = this.saving.then(() => this.write());
  }

  /** `node` changed in what is stored (its identity) but needs no write of its own: in the next one. */
  note(node: string): void {
    if (!this.killed) this.dirty.add(node);
  }

  private async write(): Promise<string | undefined> {
    await hostTurn();
    const sp = this.spacing;
    const whole = this.all || this.closing || this.wholeOnly;
    const gap = whole ? (sp?.gapMs() ?? 0) : 0;
    if (sp && gap > 0 && sp.scheduler.now() < this.lastStart + gap)
      await new Promise<void>((resolve) => sp.scheduler.at(this.lastStart + gap, resolve));
    if (sp && whole) this.lastStart = sp.scheduler.now();
    this.queued = false;
    if (this.killed) return `nothing more is written${toWhere(this.store)}: the service is stopping`;
    if (sp) this.savedOffset = sp.scheduler.wallNow() - sp.scheduler.now();
    const nodes = this.dirty;
    this.dirty = new Set();
    this.all = false;
    const records = whole ? undefined : this.state.records(nodes);
    const writing = this.stall.began("save");
    this.writing = writing;
    // Timed while it waits on the disk only: not while the state is walked, nor between its slices.
    const pace = this.stall.pace(writing);
    const walk = async () => {
      pace.idle();
      try {
        return await this.state.whole();
      } finally {
        pace.disk();
      }
    };
    try {
      // Written while running, a journaled store's file needs the last save to fold it (format 3).
      this.unfolded = !this.wholeOnly && !this.closing;
      if (records === undefined) await this.store.save(await walk(), this.unfolded, pace);
      else await this.store.append?.(records, walk, pace);
      this.ended();
      this.failures.succeeded();
      return undefined;
    } catch (err) {
      this.ended();
      this.all = true; // what failed is in the next write, whole
      this.failed(err);
      return `it cannot be saved${toWhere(this.store)} (${reasonOf(err)})`;
    }
  }

  /** The save under way ended, either way (a stall told is said over: twins/disk-stall.ts). */
  private ended(): void {
    if (this.writing !== undefined) this.stall.ended(this.writing);
    this.writing = undefined;
  }

  /** Since when the oldest save or test write under way has run, once it has run `SAVE_STALLED_MS`. */
  private get stalledSince(): number | undefined {
    return this.stall.stalled?.since;
  }

  /**
   * How long the save or test write under way has run, once it has stalled (`SAVE_STALLED_MS`),
   * and where it writes; undefined otherwise. A stop waits for it (twins/stop-wait.ts says so).
   */
  get stalledSave(): Twins["stalledSave"] {
    const stalled = this.stall.stalled;
    const now = this.spacing?.scheduler.now();
    if (stalled === undefined || now === undefined) return undefined;
    const where = this.store.where ?? "the twins store";
    return stalled.what === "save"
      ? { forMs: now - stalled.since, where }
      : { forMs: now - stalled.since, where: shownPath(dirname(where)), what: "test write" };
  }

  private failed(err: unknown): void {
    this.lastError = err;
    this.failures.failed(err);
    const sched = this.spacing?.scheduler;
    if (sched && this.retry === undefined && !this.killed) {
      this.retry = sched.at(sched.now() + SAVE_RETRY_MS, () => {
        this.retry = undefined;
        if (this.failures.failing) this.save();
      });
    }
  }

  /**
   * Since when saves have failed, or the one under way has stalled (`SAVE_STALLED_MS`): the store is
   * behind the service; undefined while they succeed.
   */
  get unsavedSince(): number | undefined {
    const failing = this.failures.failingSince;
    const stalled = this.stalledSince;
    return failing === undefined ? stalled : stalled === undefined ? failing : Math.min(failing, stalled);
  }

  /**
   * While saves fail or stall: where, and why, as `/healthz` names them (`data directory DIR cannot
   * be written (ENOSPC: no space left on device, write)`, as the broker's says its own; `data directory
   * DIR has not finished a save begun 7 s ago: …`); undefined while they succeed.
   */
  get unsavedCause(): string | undefined {
    const where = this.store.where;
    const place = where === undefined ? "the twins store" : `data directory ${shownPath(dirname(where))}`;
    const stalled = this.stall.stalled;
    if (stalled !== undefined) {
      const s = Math.round(((this.spacing?.scheduler.now() ?? stalled.since) - stalled.since) / 1000);
      return `${place} has not finished a ${stalled.what} begun ${s} s ago: its disk or file system is not answering`;
    }
    if (!this.failures.failing) return undefined;
    return `${place} cannot be written (${reasonOf(this.lastError)}), tried again every ${SAVE_RETRY_MS / 1000} s`;
  }

  /**
   * Resolves once every change made before the call is written, to undefined; or once its save
   * failed (logged and retried), to why: the save queued for it is the last of the chain. A command
   * answers only then, so what it said was done outlives a kill -9 or a power cut right after the
   * answer, and what it could not store is said to its caller (it was answered as stored, and lost
   * on the next restart). Unlike flush(), it does not wait for the saves of changes made later: a
   * busy fleet queues one after another.
   */
  written(): Promise<string | undefined> {
    return this.saving;
  }

  /** Resolves when no save is pending or under way. */
  async flush(): Promise<void> {
    // A save may queue another; wait until none is pending.
    while (this.queued) await this.saving;
    await this.saving;
  }

  /**
   * One last attempt if the last save failed, then no more retries. Still failing, it says so whatever
   * the failure log's spacing: what changed since the failures began is not on disk, and the service
   * is going (`unsavedSince` stays set for the caller's exit code).
   */
  async close(): Promise<void> {
    this.cancelRetry();
    this.closing = true;
    if (this.failures.failing || this.unfolded) this.save();
    await this.flush();
    this.kill();
    if (this.failures.failing) {
      const reason = reasonOf(this.lastError);
      this.logger.error(
        { err: reason },
        `twins: the last save${toWhere(this.store)} failed as the service stopped: pairings and sets made since saves began to fail are not in the store (they live on only in the nodes' retained configs, where sent)`,
      );
    }
  }

  /** Writes nothing more, not even a save already queued. */
  kill(): void {
    this.killed = true;
    this.stepWatch?.cancel();
    this.probeWatch?.cancel();
    this.stall.cancel();
    this.cancelRetry();
  }

  private cancelRetry(): void {
    this.retry?.cancel();
    this.retry = undefined;
  }
}
