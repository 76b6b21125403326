/**
 * `--forget-after` (docs/twins.md, "A site running for months: what grows"): a node not seen (no
 * status, report or register of its own) for longer than the span while the service watched is
 * retired as `twinfleet forget` retires it (twins/retire.ts). Without it, a board replaced or a batch
 * retired and never forgotten stayed listed offline for ever, and once `--max-nodes` were reached new
 * ids were refused. Never an online node, never one without a last-seen date (restored from a store
 * that kept none, or dated later than the host's clock: told once), never while the broker link is
 * down or its retained state being re-read, nor within a sweep period after (the query's answers).
 * Looked at once a minute on the injected scheduler.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { every, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { ResolvedTwinsOptions } from "./options.js";
import type { TwinRegistry } from "./registry.js";
import { type RetireDeps, retire } from "./retire.js";
import { spanText } from "./span-text.js";
import type { Presence, TwinsEvents } from "./types.js";
import { UnwatchedSpans } from "./unwatched.js";

/** How often the fleet is looked at. */
export const FORGET_SWEEP_MS = 60_000;
/** Past this many nodes in a sweep, one summary line instead of one line each. */
export const FORGET_LINES_MAX = 10;
/** The most nodes one sweep retires (each a few broker round trips); the rest wait for the next. */
export const FORGET_PER_SWEEP_MAX = 1000;

export interface SeenNode {
  readonly id: NodeId;
  readonly presence: Presence;
  readonly lastSeen?: number | undefined;
}

export interface ForgetAfterDeps {
  readonly spanMs: number;
  /** The span as the operator gave it (`30d`), for the lines. */
  readonly spanText: string;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly nodes: () => Iterable<SeenNode>;
  readonly node: (id: NodeId) => SeenNode | undefined;
  /** Retires `id` as `twinfleet forget` does, its own line said or not (`quiet`); throws when it cannot. */
  readonly retire: (id: NodeId, why: string, quiet: boolean) => Promise<unknown>;
  /** Told for each node retired, with how long it was silent while watched. */
  readonly forgot: (id: NodeId, silentMs: number) => void;
}

export class ForgetAfter {
  private readonly unwatched: UnwatchedSpans;
  private sweeping = false;
  private undatedTold = false;
  private readonly timer: Timer;

  constructor(private readonly d: ForgetAfterDeps) {
    this.unwatched = new UnwatchedSpans(d.scheduler.now());
    this.timer = every(d.scheduler, FORGET_SWEEP_MS, () => void this.sweep());
  }

  /** The broker link went down, or a subscription's re-read of the retained state begins. */
  unwatch(): void {
    this.unwatched.begin(this.d.scheduler.now());
  }

  /** The re-read after a subscription is over: watching from now. */
  watch(): void {
    this.unwatched.end(this.d.scheduler.now());
  }

  /** How long `n` has been silent while watched; undefined when it is not judged now. */
  silentFor(n: SeenNode): number | undefined {
    if (n.presence === "online" || n.lastSeen === undefined) return undefined;
    return this.unwatched.silentFor(n.lastSeen, this.d.scheduler.now());
  }

  /** The nodes silent past the span now, longest silent first (none while not watching long enough). */
  due(): { id: NodeId; silentMs: number }[] {
    const now = this.d.scheduler.now();
    const since = this.unwatched.watchingSince;
    if (since === undefined || now - since < FORGET_SWEEP_MS) return [];
    this.unwatched.prune(now, this.d.spanMs);
    const out: { id: NodeId; silentMs: number }[] = [];
    let undated = 0;
    for (const n of this.d.nodes()) {
      if (n.presence !== "online" && n.lastSeen === undefined) undated++;
      const silent = this.silentFor(n);
      if (silent !== undefined && silent > this.d.spanMs) out.push({ id: n.id, silentMs: silent });
    }
    if (undated > 0 && !this.undatedTold) {
      this.undatedTold = true;
      this.d.logger.info(
        { nodes: undated },
        `twins: ${undated} node${undated === 1 ? " has" : "s have"} no last-seen date (stored without one, or dated later than the host's clock): --forget-after does not forget ${undated === 1 ? "it" : "them"} until heard; twinfleet forget does`,
      );
    }
    return out.sort((a, b) => b.silentMs - a.silentMs).slice(0, FORGET_PER_SWEEP_MAX);
  }

  /** One look: the nodes due retired one after another, each judged again just before. */
  async sweep(): Promise<string[]> {
    if (this.sweeping) return [];
    this.sweeping = true;
    try {
      const due = this.due();
      const quiet = due.length > FORGET_LINES_MAX;
      const done: string[] = [];
      let longest = 0;
      for (const { id } of due) {
        const n = this.d.node(id);
        const silent = n && this.silentFor(n);
        if (silent === undefined || !(silent > this.d.spanMs)) continue; // heard meanwhile, or the link went
        try {
          await this.d.retire(
            id,
            `not seen for ${spanText(silent)} (--forget-after ${this.d.spanText})`,
            quiet,
          );
        } catch (err) {
          this.d.logger.warn(
            { err, node: id },
            `twins: --forget-after could not forget ${id}; tried again in a minute`,
          );
          break; // the broker went away: the next look judges again
        }
        done.push(id);
        longest = Math.max(longest, silent);
        this.d.forgot(id, silent);
      }
      if (quiet && done.length > 0)
        this.d.logger.info(
          { nodes: done.length, first: done.slice(0, FORGET_LINES_MAX) },
          `twins: forgot ${done.length} nodes not seen for over ${this.d.spanText} (--forget-after; the longest silent ${spanText(longest)}): their retained status, config and report cleared, their followers unpaired`,
        );
      return done;
    } finally {
      this.sweeping = false;
    }
  }

  stop(): void {
    this.timer.cancel();
  }
}

/** A service's `--forget-after`, when asked for and not passive: on its registry, retiring as `forget` does. */
export function forgetAfterOf(
  opts: ResolvedTwinsOptions,
  registry: TwinRegistry,
  retiring: RetireDeps,
  events: Pick<EventEmitter<TwinsEvents>, "emit" | "on">,
): ForgetAfter | undefined {
  const spanMs = opts.forgetAfterMs;
  if (spanMs === undefined || opts.passive) return undefined;
  const judge = new ForgetAfter({
    spanMs,
    spanText: spanText(spanMs),
    scheduler: opts.scheduler,
    logger: opts.logger,
    nodes: () => registry.seen(),
    node: (id) => registry.get(id),
    retire: (id, why, quiet) => retire(retiring, id, { why, quiet }),
    forgot: (id, silentMs) => events.emit("twin-silent-forgotten", id, silentMs),
  });
  events.on("broker", (up) => {
    if (!up) judge.unwatch(); // no node can be heard now
  });
  return judge;
}
