/**
 * The start's wait for its data directory, told. Opening a LevelDB store writes a new log and
 * manifest, and the start then reads the queues and writes its start id (broker/level-store.ts,
 * broker/rollback-queues.ts): on a frozen or hung file system (fsfreeze, a hung disk or network
 * volume) those writes do not end. The broker sat without a line, a listener or `/healthz` until
 * the disk answered; a SIGTERM meanwhile was not told, a second one was told "closing its
 * connections", and at the thaw the broker listened, served `/healthz`, then closed. Now, after
 * `STORE_STALLED_MS` (5 s), one line names the directory, the step it waits on and since when,
 * again every 30 s (each at that age: node/wait-told.ts), and once it answers how long it took and
 * whether the broker starts: a stop asked for meanwhile starts nothing (broker/server.ts). `problem`
 * is what `--http`, opened before the store, answers `/healthz` with meanwhile
 * (web/broker-server.ts). As the twins service's own (twins/store-open-wait.ts). On Redis (`--redis`) the start's check (connecting, INFO,
 * PING: broker/redis-store.ts) waits alike on a Redis that accepts the connection and never answers
 * (stopped by kill -STOP, a paused container, a host swapping, another service on that port): the
 * start sat without a line, `/healthz` said only "its store is not open yet", a SIGTERM was not told
 * and the broker listened at Redis's return only to close. Its wait is told in the same words, naming
 * Redis; a stop ends it at once (the connection is dropped: no write is held). Past the check the
 * start still waits on Redis (aedes's set-up over the store, publish and subscribe connections): a
 * Redis frozen then held the start silent again. Each of those steps is held here too (`hold`), the
 * wait one from the check to listening. A Redis that answers, only too slowly for a step to end in
 * 5 s (a big keyspace, a slow link), was told as one that `has not answered`: where the store's
 * answers are heard (`answers`), the line says it answers, slowly, and when it last did, and its
 * answers stopping is told 5 s after the last one. Times come from the injected Scheduler.
 */
import type { Logger } from "pino";
import type { Scheduler, Timer } from "../node/scheduler.js";
import { WaitTold } from "../node/wait-told.js";
import { DISK_NOT_ANSWERING, wholeSeconds } from "../node/writes-under-way.js";
import { STORE_STALLED_MS } from "./store-stall.js";

/** What the start waits on, as its lines name it. */
export interface WaitedStore {
  /** `data directory mnt/b`, `Redis at redis://127.0.0.1:6379` (its password hidden). */
  readonly where: string;
  /** Whether the lines say `the`/`its` before `where` (a data directory; Redis is named as it is). */
  readonly article: boolean;
  /** What its silence may mean, and what to check. */
  readonly why: string;
  /** Ends the wait at once (a connection dropped); absent where nothing can (a write the kernel holds). */
  readonly cancel?: () => void;
  /**
   * Where its answers can be heard (Redis: every reply on the start's connections): a store that
   * answers, only slowly, is then told as slow, not as silent.
   */
  readonly answers?: StoreAnswers;
}

/** A store's replies during the start, heard. */
export interface StoreAnswers {
  /** Calls `answered` at each of its replies from now on (one listener: a later call replaces it). */
  onAnswer(answered: () => void): void;
  /** What its answering slowly may mean, and what to check. */
  readonly slowWhy: string;
}

/** The start's data directory (LevelDB). */
export const dataDirectoryWait = (dir: string): WaitedStore => ({
  where: `data directory ${dir}`,
  article: true,
  why: DISK_NOT_ANSWERING,
});

/** What a Redis that takes the connection and does not answer may be. */
export const REDIS_NOT_ANSWERING =
  "check that the Redis server is running and not stopped (kill -STOP, a paused container), swapping or loading its data, and that --redis names a Redis server";

/** What a Redis that answers, slowly enough to hold a step of the start 5 s, may be. */
export const REDIS_SLOW =
  "it may hold many sessions, subscriptions or retained messages to set up, be loaded by other work, or be reached over a slow link: check its latency (redis-cli --latency) and its load";

/** How often a wait still under way is told again. */
export const OPEN_WAIT_RETELL_MS = 30_000;

/** A stop asked for while the broker started on a data directory: it started nothing. */
export class StoppedWhileStarting extends Error {
  constructor(readonly signal: string) {
    super(`${signal} while the broker was starting: it stops without starting`);
  }
}

export class StoreOpenWait {
  #store: WaitedStore | undefined;
  #step = "";
  #since: number | undefined;
  /** When the store last answered (this wait's clock), where its answers are heard. */
  #lastAnswer: number | undefined;
  /** Told slow: its answers stopping for `stalledMs` is told then, not at the next 30 s line. */
  #silentCheck: Timer | undefined;
  /** The date the wait began (`wallNow`), as the line shows it. */
  #sinceDate = 0;
  #told: WaitTold | undefined;
  #stopping: string | undefined;
  /** Rejected by a stop: what a held step races. */
  #stopped: Promise<never> | undefined;
  #stoppedBy: ((err: Error) => void) | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly stalledMs = STORE_STALLED_MS,
  ) {}

  /** The start begins a step on `store` (`opening it as a LevelDB store`); one asked to stop is ended. */
  step(store: WaitedStore, what: string): void {
    this.#store = store;
    this.#step = what;
    store.answers?.onAnswer(() => {
      this.#lastAnswer = this.scheduler.now();
    });
    if (this.#stopping !== undefined) store.cancel?.();
    if (this.#since !== undefined) return;
    const since = this.scheduler.now();
    this.#since = since;
    this.#sinceDate = this.scheduler.wallNow();
    this.#told = new WaitTold(this.scheduler, since, this.stalledMs, OPEN_WAIT_RETELL_MS, (ms) =>
      this.#tell(ms),
    );
  }

  /**
   * A step of the start that waits on `store` (Redis past the start's check): told as `step` is, and
   * ended by a stop, which drops `store`'s connections and rejects it with StoppedWhileStarting (a
   * promise on a dropped connection may never settle). The wait goes on after it: `done()` ends it.
   */
  hold<T>(store: WaitedStore, what: string, work: Promise<T>): Promise<T> {
    this.step(store, what);
    if (this.#stopping !== undefined) return Promise.reject(new StoppedWhileStarting(this.#stopping));
    this.#stopped ??= new Promise<never>((_, reject) => {
      this.#stoppedBy = reject;
    });
    // Unheard when no step is under way as the stop comes.
    this.#stopped.catch(() => {});
    return Promise.race([work, this.#stopped]);
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
    this.#stoppedBy?.(new StoppedWhileStarting(this.#stopping));
    const store = this.#since === undefined ? undefined : this.#store;
    if (store?.cancel !== undefined) {
      // Nothing holds the process: the wait ends now, and the start with it.
      if (!again) {
        const ms = this.scheduler.now() - (this.#since ?? 0);
        this.logger.info(`${signal}: the broker stops without starting; it ${this.#waitedText(store, ms)}`);
      }
      store.cancel();
      return !again;
    }
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
    return ms >= this.stalledMs || this.#told?.told === true ? ms : undefined;
  }

  /** While the start waits `stalledMs` or more: what on (as `/healthz` would name it). */
  get problem(): string | undefined {
    const ms = this.waitedMs();
    return ms === undefined ? undefined : `the start ${this.#waitText(ms)}`;
  }

  #waitText(ms: number): string {
    const store = this.#store;
    const its = store?.article === true ? "its " : "";
    const heard = this.#heard();
    if (heard === undefined)
      return `waits for ${its}${store?.where} to answer (${this.#step}), not answering for ${wholeSeconds(ms)}: ${store?.why}`;
    const ago = this.scheduler.now() - heard;
    if (ago >= this.stalledMs)
      return `waits for ${its}${store?.where} to answer (${this.#step}), not answering for ${wholeSeconds(ago)} (the start waiting ${wholeSeconds(ms)}): ${store?.why}`;
    return `waits for ${its}${store?.where}, which answers, slowly (${this.#step}), not finished after ${wholeSeconds(ms)}, its last answer ${wholeSeconds(ago)} ago: ${store?.answers?.slowWhy}`;
  }

  /**
   * What the start waited on, `ms` long, as a stop that ended it tells it: judged as the wait's lines
   * are (slow, or silent since its last answer). A Redis that answered slowly was told to a stop as
   * one it `waited N s for … to answer`.
   */
  #waitedText(store: WaitedStore, ms: number): string {
    const heard = this.#heard();
    const waited = `waited ${wholeSeconds(ms)} for ${store.where}`;
    if (heard === undefined) return `${waited} to answer (${this.#step})`;
    const ago = this.scheduler.now() - heard;
    if (ago >= this.stalledMs)
      return `${waited} to answer (${this.#step}), not answering for ${wholeSeconds(ago)}`;
    return `${waited}, which answered, slowly (${this.#step}), its last answer ${wholeSeconds(ago)} before the stop`;
  }

  /**
   * When the store last answered during this wait, if it has: a Redis that answers the start's
   * connections, only too slowly for a step to end in 5 s (a big keyspace, a slow link), was told as
   * one that `has not answered`.
   */
  #heard(): number | undefined {
    const heard = this.#lastAnswer;
    return heard === undefined || this.#since === undefined || heard <= this.#since ? undefined : heard;
  }

  /** `silent`: its answers have stopped `stalledMs` (a timer due then, which may run a hair early). */
  #tell(ms: number, silent = false): void {
    const then = this.#stopping === undefined ? "starts" : "stops without starting";
    const store = this.#store;
    const the = store?.article === true ? "the " : "";
    const held =
      store?.cancel === undefined
        ? "and no process ends before its write does, SIGKILL included"
        : "and a stop (SIGTERM, Ctrl-C) ends the wait at once";
    const since = new Date(this.#sinceDate).toISOString();
    const heard = this.#heard();
    if (heard === undefined) {
      this.logger.warn(
        { waitedMs: Math.round(ms), step: this.#step },
        `broker: ${the}${store?.where} has not answered in ${wholeSeconds(ms)} (${this.#step}, since ${since}): ${store?.why}; the broker ${then} once it does, ${held}`,
      );
      return;
    }
    const ago = this.scheduler.now() - heard;
    const fields = { waitedMs: Math.round(ms), step: this.#step, lastAnswerMs: Math.round(ago) };
    if (silent || ago >= this.stalledMs)
      this.logger.warn(
        fields,
        `broker: ${the}${store?.where} has not answered in ${wholeSeconds(ago)} (${this.#step}; the start waiting ${wholeSeconds(ms)}, since ${since}): ${store?.why}; the broker ${then} once it does, ${held}`,
      );
    else {
      this.#silentCheck?.cancel();
      this.#silentCheck = this.scheduler.at(heard + this.stalledMs, () => {
        this.#silentCheck = undefined;
        if (this.#told !== undefined && this.#heard() === heard)
          this.#tell(this.scheduler.now() - (this.#since ?? 0), true);
      });
      this.logger.warn(
        fields,
        `broker: ${the}${store?.where} answers, slowly: the start has not finished in ${wholeSeconds(ms)} (${this.#step}, since ${since}; its last answer ${wholeSeconds(ago)} ago): ${store?.answers?.slowWhy}; the broker ${then} once it has, ${held}`,
      );
    }
  }

  /** The directory answered (or failed): told, if the wait was. */
  done(): void {
    const told = this.#told;
    told?.cancel();
    this.#silentCheck?.cancel();
    this.#silentCheck = undefined;
    this.#told = undefined;
    const since = this.#since;
    // Heard during the wait: its answers came, and the start's steps on it have now ended.
    const heard = this.#heard();
    if (since === undefined || told?.told !== true) {
      this.#since = undefined;
      return;
    }
    this.#since = undefined;
    const ms = this.scheduler.now() - since;
    // Ended by the stop, not answered: the stop's own line said so.
    if (this.#store?.cancel !== undefined && this.#stopping !== undefined) return;
    const the = this.#store?.article === true ? "the " : "";
    const ended = heard === undefined ? "answered after" : "answered the start's steps in";
    this.logger.info(
      { waitedMs: Math.round(ms) },
      `broker: ${the}${this.#store?.where} ${ended} ${wholeSeconds(ms)}: ` +
        (this.#stopping === undefined
          ? "the broker starts"
          : `the broker stops without starting (${this.#stopping})`),
    );
  }
}
