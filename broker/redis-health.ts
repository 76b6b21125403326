/**
 * Whether the broker's Redis still answers (`broker --redis`). A frozen Redis (SIGSTOP, a paused
 * container, a host swapping) keeps its sockets open: no connection closes, no error comes, and every
 * command waits behind the ones before it, so the connections' own watch (broker/redis-store.ts) says
 * nothing. Here each connection is sent a PING every second, one at a time; a connection whose last
 * answer is `silentMs` (5 s) old makes one ERROR naming what stops and what to check, and the first
 * answer after it one line with how long Redis was silent. The time comes from the injected Scheduler:
 * a PING to a frozen server neither answers nor fails, so no command timeout would ever fire.
 */
import type { Logger } from "pino";
import { every, type Scheduler, type Timer } from "../node/scheduler.js";

/** What the check needs of a connection (an ioredis client; PING is allowed in subscriber mode). */
export interface PingableConnection {
  ping(): Promise<unknown>;
  /**
   * ioredis's connection state; anything but "ready" is a connection down (refused, reconnecting),
   * which the connections' own watch logs: its silence counts from when it is up again.
   */
  readonly status?: string;
}

export interface RedisHealthOptions {
  /** How often each connection is sent a PING (when none is waiting); default 1 s. */
  readonly everyMs?: number;
  /** How long without an answer counts as Redis gone silent; default 5 s. */
  readonly silentMs?: number;
}

export const REDIS_PING_MS = 1_000;
export const REDIS_SILENT_MS = 5_000;

interface Watched {
  readonly name: string;
  readonly conn: PingableConnection;
  /** When it last answered (or the check began). */
  heard: number;
  waiting: boolean;
}

/** The health of one broker's Redis connections, checked on `scheduler` until `stop()`. */
export class RedisHealth {
  private readonly watched: Watched[];
  private readonly everyMs: number;
  private readonly silentMs: number;
  private timer: Timer | undefined;
  /** Since when Redis has been silent (its last answer), while it is. */
  private silentSince: number | undefined;

  constructor(
    /** The store, as messages name it (`Redis at redis://…`, password hidden). */
    private readonly where: string,
    connections: Readonly<Record<string, PingableConnection>>,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    opts: RedisHealthOptions = {},
  ) {
    this.everyMs = opts.everyMs ?? REDIS_PING_MS;
    this.silentMs = opts.silentMs ?? REDIS_SILENT_MS;
    const now = scheduler.now();
    this.watched = Object.entries(connections).map(([name, conn]) => ({
      name,
      conn,
      heard: now,
      waiting: false,
    }));
    this.timer = every(scheduler, this.everyMs, () => this.tick());
  }

  /** False while Redis has been silent for `silentMs`, from the ERROR to the first answer after it. */
  get up(): boolean {
    return this.silentSince === undefined;
  }

  /**
   * What is wrong now, in one sentence naming Redis: silent for how long, or a connection down (which
   * ioredis is retrying); undefined while every connection is up and answering.
   */
  problem(): string | undefined {
    if (this.silentSince !== undefined) {
      const s = Math.round((this.scheduler.now() - this.silentSince) / 1000);
      return `${this.where} has not answered for ${s} s`;
    }
    const down = this.watched.filter((w) => w.conn.status !== undefined && w.conn.status !== "ready");
    if (down.length === 0) return undefined;
    const names = down.map((w) => w.name).join(", ");
    return `${this.where}: connection ${names} ${down.length > 1 ? "are" : "is"} down (${down[0]?.conn.status})`;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.scheduler.now();
    // Still waiting for the PING of an earlier check: not answering now, whenever it last did.
    const unanswered = new Set(this.watched.filter((w) => w.waiting));
    for (const w of this.watched) {
      if (w.conn.status !== undefined && w.conn.status !== "ready") {
        w.heard = now;
        unanswered.delete(w);
      }
      if (!w.waiting) this.ping(w);
    }
    const silent = this.watched.filter((w) => now - w.heard >= this.silentMs);
    if (silent.length === 0 || this.silentSince !== undefined) return;
    this.silentSince = Math.min(...silent.map((w) => w.heard));
    // Named: every connection not answering, not only those whose last answer is 5 s old. A frozen
    // Redis stops answering all of them at once, but their last answers came up to a check apart (a
    // PING answered just before the freeze, another just after it would have been): on a busy host
    // the line named one or two of the three.
    const named = this.watched.filter((w) => unanswered.has(w) || silent.includes(w));
    this.logger.error(
      { connections: named.map((w) => w.name), silentMs: Math.round(now - this.silentSince) },
      `${this.where} has not answered for ${this.silentMs / 1000} s; the broker keeps its clients ` +
        "connected, but until it answers no message is delivered (each goes round through Redis, even " +
        "between two clients of this broker), no client can connect, and retained messages, wills and " +
        "sessions are not stored: check that the Redis server is running and not stopped (kill -STOP, " +
        "a paused container) or swapping, and the network to it",
    );
  }

  private ping(w: Watched): void {
    w.waiting = true;
    // A reply of any kind (an error reply too) is Redis answering; a rejected PING that Redis never
    // saw (a closed connection) is not: the connection's own watch logs that.
    const answered = () => {
      w.waiting = false;
      w.heard = this.scheduler.now();
      this.answered();
    };
    w.conn.ping().then(answered, (err: unknown) => {
      if (err instanceof Error && err.name === "ReplyError") answered();
      else w.waiting = false;
    });
  }

  private answered(): void {
    if (this.silentSince === undefined || this.timer === undefined) return;
    const now = this.scheduler.now();
    if (this.watched.some((w) => now - w.heard >= this.silentMs)) return;
    const silentMs = Math.round(now - this.silentSince);
    this.silentSince = undefined;
    this.logger.warn(
      { silentMs },
      `${this.where} answers again after ${(silentMs / 1000).toFixed(1)} s of silence; what waited for it goes out now`,
    );
  }
}
