/**
 * Where a view gets the convergence history's long tier (the twins service's minutes, 48 h of them):
 * from the source's own twins service (a sim's run, the monitor's), or over HTTP from a twins service
 * running apart (`GET /api/convergence/minutes`, fetched when shown and every 30 s while it is). A
 * fleet without a twins service, or one whose service does not serve its minutes (an older one, 404),
 * is told as such, in words a chart can show in its place. A read that fails after minutes came keeps
 * them, marked stale with why (the service stopped or restarting is when its hours before matter).
 */
import { every, type Scheduler, type Timer } from "../node/scheduler.js";
import type { MinutePoint } from "../twins/index.js";
import { readBounded } from "./bounded-body.js";
import { ConsoleEmitter } from "./emitter.js";
import { checkMinutes, MINUTES_MAX_BYTES } from "./minutes-check.js";
import type { ConsoleSource } from "./source.js";

export type MinutesState =
  /**
   * The minutes, oldest first, read at `t` on the service's clock (the chart's right edge); `stale`
   * when the reads since failed (the service stopped, killed, refusing): why the last one did.
   */
  | {
      readonly kind: "minutes";
      readonly minutes: readonly MinutePoint[];
      readonly t: number;
      readonly stale?: string;
    }
  /** No minutes to show, and why (no twins service, a 404, a service not reached). */
  | { readonly kind: "none"; readonly why: string }
  /** Asked, not answered yet. */
  | { readonly kind: "waiting"; readonly what: string };

export interface MinutesFeed {
  state(): MinutesState;
  /** Whether the minutes are shown: a feed that fetches them does so only while they are. */
  show(on: boolean): void;
  /** A new state to draw; returns its unsubscribe. */
  onChange(listener: () => void): () => void;
  close(): void;
}

/** The page's words for a fleet with no twins service (docs/web.md). */
export const NO_TWINS_SERVICE = "this fleet keeps no long convergence history: it has no twins service";

/** The minutes of the source's own twins service, read when drawn. */
export function sourceMinutes(source: ConsoleSource): MinutesFeed {
  return {
    state: () =>
      source.minutes === undefined
        ? { kind: "none", why: NO_TWINS_SERVICE }
        : { kind: "minutes", minutes: source.minutes(), t: source.now() },
    show: () => {},
    onChange: () => () => {},
    close: () => {},
  };
}

/** How often shown minutes are fetched again, ms (as the page does). */
export const REFETCH_MS = 30_000;
/** How long a fetch may take before it is told as unanswered, ms. */
const FETCH_TIMEOUT_MS = 10_000;

export interface RemoteMinutesOptions {
  /** The twins service's web address, `http://host:port`. */
  readonly origin: string;
  readonly token?: string | undefined;
  readonly scheduler: Scheduler;
  readonly refetchMs?: number;
  /** How long a fetch, its answer read whole, may take, ms (FETCH_TIMEOUT_MS by default). */
  readonly timeoutMs?: number;
}

/** The minutes of a twins service running apart, over its web API. */
export class RemoteMinutes implements MinutesFeed {
  private current: MinutesState;
  private timer: Timer | undefined;
  private asking = false;
  private closed = false;
  private readonly changed = new ConsoleEmitter();

  constructor(private readonly o: RemoteMinutesOptions) {
    this.current = { kind: "waiting", what: `asking ${o.origin} for its minutes` };
  }

  state(): MinutesState {
    return this.current;
  }

  show(on: boolean): void {
    if (this.closed || on === (this.timer !== undefined)) return;
    if (!on) {
      this.timer?.cancel();
      this.timer = undefined;
      return;
    }
    this.timer = every(this.o.scheduler, this.o.refetchMs ?? REFETCH_MS, () => void this.fetch());
    void this.fetch();
  }

  onChange(listener: () => void): () => void {
    return this.changed.on("changed", listener);
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Fetches the minutes once (one at a time); the state says what came back. */
  async fetch(): Promise<void> {
    if (this.asking || this.closed) return;
    this.asking = true;
    try {
      this.set(await this.ask());
    } finally {
      this.asking = false;
    }
  }

  /**
   * A failed read after minutes were read keeps them, marked stale with its why: the service not
   * answering (stopped, killed, restarting) is when the hours before matter, and the chart gave way
   * to `cannot reach …` until it answered again.
   */
  private set(s: MinutesState): void {
    if (this.closed) return;
    const was = this.current;
    this.current =
      s.kind === "none" && was.kind === "minutes"
        ? { kind: "minutes", minutes: was.minutes, t: was.t, stale: s.why }
        : s;
    this.changed.emit("changed");
  }

  private async ask(): Promise<MinutesState> {
    const { origin, token } = this.o;
    const timeoutMs = this.o.timeoutMs ?? FETCH_TIMEOUT_MS;
    const url = `${origin}/api/convergence/minutes`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let r: Response;
    try {
      r = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (e as Error).name === "TimeoutError"
          ? `no answer within ${timeoutMs / 1000} s`
          : cause?.code === "ECONNREFUSED"
            ? "connection refused"
            : (cause?.message ?? (e as Error).message);
      return { kind: "none", why: `cannot reach the twins service at ${origin}: ${why}` };
    }
    const read = await readBounded(r, MINUTES_MAX_BYTES);
    if (read.kind === "over")
      return {
        kind: "none",
        why: `the twins service at ${origin} answered more than ${MINUTES_MAX_BYTES / 1024 / 1024} MB, more than 48 h of minutes take: it is not a twins service's answer (the rest was not read)`,
      };
    if (read.kind === "cut")
      return {
        kind: "none",
        why: `the twins service at ${origin} answered ${r.status} and did not finish its answer within ${timeoutMs / 1000} s (${read.bytes} bytes by then)${(read.error as Error).name === "TimeoutError" ? "" : `: ${(read.error as Error).message}`}`,
      };
    const text = read.text;
    if (r.status === 404) {
      // A service that has the route and no minutes says why (a fleet with no twins service); one
      // without the route (`no route GET …`, the web server's 404) is older than the minutes.
      const why = detailOf(text);
      return {
        kind: "none",
        why:
          why !== "" && !why.startsWith(": no route")
            ? `the twins service at ${origin} serves no minutes${why}`
            : `the twins service at ${origin} serves no minutes: it answered 404${why.replace(/^: (.*)$/, " ($1)")}, as a twinfleet from before the 48 h history does`,
      };
    }
    if (r.status === 401 || r.status === 403)
      return {
        kind: "none",
        why: `the twins service at ${origin} refused the token (${r.status}${detailOf(text)})`,
      };
    if (!r.ok)
      return { kind: "none", why: `the twins service at ${origin} answered ${r.status}${detailOf(text)}` };
    const body = checkMinutes(text, r.headers.get("content-type"));
    if (!body.ok) return { kind: "none", why: `the twins service at ${origin} answered ${body.why}` };
    return { kind: "minutes", minutes: body.minutes, t: body.t };
  }
}

/** The answer's `detail` (the service's reason), as `: …`, if it has one. */
function detailOf(text: string): string {
  try {
    const d = (JSON.parse(text) as { detail?: unknown }).detail;
    return typeof d === "string" && d !== "" ? `: ${d.slice(0, 200)}` : "";
  } catch {
    return "";
  }
}
