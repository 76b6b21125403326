/**
 * The broker as the run's twins service (and, for a broker outside the run's process, its probe:
 * fleet/broker-probe.ts) saw it: each span its connection was lost, on the run's clock. Not a fault the run injected but what happened to the broker the nodes share (someone
 * else's that died, or the run's own by a crash or a broker-restart fault), for the progress line
 * ("broker lost 12 s"), the report's `brokerOutages` and the summary. What the broker came back
 * without is told by the run's own twins service, which puts it back (its `put-back` event): counted
 * against the outage it followed. A loss the run noticed just after it did not run itself for a while
 * (node/stall-watch.ts: stopped, its VM paused), and that ended soon after, is that stall's: its own
 * connection's timers ran out while it was stopped, not the broker. It is no outage of the broker
 * (kept only to excuse what happened then: `near`), and the report tells the stall instead; unless
 * the broker came back without what it held, which no stall of the run's explains.
 */
import type { Scheduler } from "../node/scheduler.js";
import {
  STALL_AFTERMATH_MS,
  STALL_RECONNECT_MS,
  type Stall,
  type StallWatch,
  stallWatchOf,
} from "../node/stall-watch.js";

/** What the spans are read from: a `broker` event (connected or not), as the twins service's. */
export interface BrokerWatchable {
  /** `at`: lost since (the last packet heard, the drop), or back since (absent: now). */
  on(event: "broker", listener: (connected: boolean, at?: number) => void): unknown;
}

/** What tells the nodes whose report the broker came back without: the run's own twins service. */
export interface PutBackWatchable {
  on(event: "put-back", listener: (nodes: number) => void): unknown;
}

/**
 * A watch that also tells the broker's refusals of the run's login, with the broker's answer: the
 * run's probe (fleet/broker-probe.ts).
 */
export interface RefusalWatchable extends BrokerWatchable {
  onRefused(fn: (why: string) => void): void;
}

/** One outage on the run's clock; `endMs` undefined while it lasts. */
interface Span {
  readonly startMs: number;
  endMs: number | undefined;
  /** Nodes whose report the broker no longer held when it was back, put back. */
  retainedLost: number;
  /** The broker's answer to the run's login while it was lost, when it refused it. */
  refused: string | undefined;
  /** The run's own stall that the loss was noticed in or just after (then no outage of the broker if it ends soon). */
  stall: Stall | undefined;
}

export interface OutageSpan {
  readonly startMs: number;
  /** When the connection came back, or the end asked for if it had not. */
  readonly endMs: number;
  readonly back: boolean;
  /** Nodes whose report the broker no longer held when it was back, put back by the twins service; absent when none. */
  readonly retainedLost?: number;
  /**
   * The broker refused the run's login while it was lost (its answer: "bad user name or password",
   * …): a login revoked or changed (`--auth` reloaded), not a broker that died; absent otherwise.
   */
  readonly refused?: string;
}

type Watch = BrokerWatchable | RefusalWatchable;

export class BrokerOutages {
  /** When the run began (made with it), on its clock: stalls before are not its own. */
  private readonly since: number;
  private readonly spans: Span[] = [];

  /**
   * Listens to each of `sources` (none: a run without twins sees no outage): the first to lose the
   * broker opens an outage, the first to hear it again ends it, and a loss dated back into an outage
   * just ended (the twins' keepalive running out after a probe heard the broker again) extends it.
   */
  constructor(
    sources: Watch | readonly (Watch | undefined)[] | undefined,
    private readonly now: () => number,
    putBacks?: PutBackWatchable,
    private readonly watch?: StallWatch,
  ) {
    this.since = now();
    const all = Array.isArray(sources) ? sources : [sources];
    for (const source of all as readonly (Watch | undefined)[]) {
      source?.on("broker", (connected, at) => (connected ? this.back(at) : this.lost(at)));
      if (source !== undefined && "onRefused" in source) source.onRefused((why) => this.refused(why));
    }
    // Told once the broker's replay after the reconnect is over: the outage just ended (none before
    // it: a service started on a broker that lacks what its store holds, not an outage of the run).
    putBacks?.on("put-back", (nodes) => {
      const last = this.spans.at(-1);
      if (last !== undefined) last.retainedLost += nodes;
    });
  }

  /** On the run's clock `sched`, with its stall watch (none on virtual time). */
  static onClock(
    sources: readonly (Watch | undefined)[],
    sched: Scheduler,
    putBacks?: PutBackWatchable,
  ): BrokerOutages {
    return new BrokerOutages(sources, () => sched.now(), putBacks, stallWatchOf(sched));
  }

  private get open(): Span | undefined {
    const last = this.spans.at(-1);
    return last !== undefined && last.endMs === undefined ? last : undefined;
  }

  /** Lost since the broker was last heard from (the service noticed a silent one later), or now. */
  private lost(lastHeardAt: number | undefined): void {
    if (this.open !== undefined) return;
    const startMs = lastHeardAt ?? this.now();
    const stall = this.watch?.explaining(this.now(), STALL_AFTERMATH_MS);
    const last = this.spans.at(-1);
    if (last?.endMs !== undefined && startMs <= last.endMs) {
      last.endMs = undefined;
      last.stall ??= stall;
    } else this.spans.push({ startMs, endMs: undefined, retainedLost: 0, refused: undefined, stall });
  }

  /** Back since `at` (the start of the reconnect that got through), or now. */
  private back(at: number | undefined): void {
    const span = this.open;
    if (span === undefined) return;
    span.endMs = Math.max(span.startMs, Math.min(at ?? this.now(), this.now()));
    // Still lost well after the stall: the broker was away too, and it is an outage after all.
    if (span.stall !== undefined && span.endMs > span.stall.endMs + STALL_RECONNECT_MS)
      span.stall = undefined;
  }

  /**
   * Whether a span is the run's own stall's, not the broker's: it ended soon after the stall, and the
   * broker came back with what it held. One that came back without the nodes' reports was restarted
   * (or lost them): its own outage, whatever the run did meanwhile.
   */
  private static stalled(s: Span): boolean {
    return s.stall !== undefined && s.endMs !== undefined && s.retainedLost === 0;
  }

  /**
   * The broker refused the run's login (its answer `why`): the cause of the outage under way, the
   * first refusal kept. A refusal with no outage open (the connection never came up) is none of it.
   */
  refused(why: string): void {
    const span = this.open;
    if (span !== undefined) span.refused ??= why;
  }

  /** For the progress line: how long the broker has been lost (s), and the refusal of the run's login then. */
  progress(): { brokerLostS: number | undefined; brokerRefused: string | undefined } {
    return { brokerLostS: this.downS(), brokerRefused: this.open?.refused };
  }

  /** Whether the broker has been lost at any time so far (the run's own stalls' losses too). */
  get seen(): boolean {
    return this.spans.length > 0;
  }

  /**
   * The run's own stalls, and those in which (or just after) its connection to the broker was lost:
   * the stall's, not the broker's. Only those that ended after the run began: the watch is its
   * scheduler's, which a sweep shares between its points, and a stall of the point before was told
   * again in every later point's report.
   */
  stalls(): { all: readonly Stall[]; brokerLost: readonly Stall[] } {
    const brokerLost = this.spans.filter(BrokerOutages.stalled).map((s) => s.stall as Stall);
    return { all: (this.watch?.list() ?? []).filter((s) => s.endMs > this.since), brokerLost };
  }

  /** How long the broker has been lost (s), or undefined while it is connected. */
  downS(): number | undefined {
    const span = this.open;
    return span === undefined ? undefined : (this.now() - span.startMs) / 1000;
  }

  /** Whether the broker was lost at some time within `marginMs` of `at` (or is lost now). */
  near(at: number, marginMs: number): boolean {
    return this.spans.some((s) => s.startMs - marginMs <= at && at <= (s.endMs ?? this.now()) + marginMs);
  }

  /** Every outage so far, one still lasting ended at `untilMs`; the run's own stalls' losses are none. */
  list(untilMs: number): OutageSpan[] {
    return this.spans
      .filter((s) => !BrokerOutages.stalled(s))
      .map((s) => ({
        startMs: s.startMs,
        endMs: s.endMs ?? Math.max(s.startMs, untilMs),
        back: s.endMs !== undefined,
        ...(s.retainedLost > 0 ? { retainedLost: s.retainedLost } : {}),
        ...(s.refused !== undefined ? { refused: s.refused } : {}),
      }));
  }
}
