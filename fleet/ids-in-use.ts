/**
 * Before a fleet's nodes boot on someone else's broker: none of its client ids may be in use. Another
 * fleet or a board online with them would take each node's session over, and be taken over, again
 * and again (fleet/session-clashes.ts tells that during a run). Ids found online are given a
 * keepalive's time to go offline (a fleet that lost power a moment ago); those still online refuse
 * the run, naming them.
 */
import type { Scheduler } from "../node/scheduler.js";
import {
  afterRunning,
  coveredWithin,
  type StallWatch,
  type Stretch,
  stallWatchOf,
} from "../node/stall-watch.js";
import type { NodeId } from "../protocol/index.js";
import { SILENCE_MS } from "../twins/index.js";
import type { BrokerWatchable } from "./broker-outages.js";

/**
 * How long the fleet's ids online on the broker are given to go offline before the run is refused: a
 * run of the same fleet whose machine lost power or its network a moment ago stays online until the
 * broker has heard nothing from its nodes for 1.5 × their keepalive (MQTT-3.1.2-24) and publishes
 * their wills; and a second more. (A killed process's sockets close at once: its wills go at once.)
 */
export const offlineWaitMs = (keepaliveS: number): number => 1500 * keepaliveS + 1000;

/** What the broker shows of the fleet: whether an id is online, and each change. */
export interface Presence {
  online(id: NodeId): boolean;
  /** Calls `changed` on every change; returns the unsubscribe. */
  watch(changed: () => void): () => void;
}

/** A broker unheard this long (two probes missed) may be falling silent: a wait's end waits for the probe. */
export const QUIET_HOLD_MS = 1_000;

/**
 * The stretches a probe of the broker (fleet/broker-probe.ts, a shard's watch client) told it lost:
 * from the last packet heard (5 s before the loss is told, for a silence) to its return. A broker
 * that answers nothing publishes no will: such a stretch is no time the fleet's ids stayed online.
 */
export class BrokerSilences {
  private readonly stretches: { startMs: number; endMs: number | undefined }[] = [];

  constructor(
    /** `lastHeardAt`: when the broker last sent anything, on `now`'s clock (the probe's watch tells it). */
    private readonly watch: BrokerWatchable & { readonly lastHeardAt?: number },
    now: () => number,
  ) {
    watch.on("broker", (connected, at) => {
      const last = this.stretches.at(-1);
      const lasting = last !== undefined && last.endMs === undefined;
      if (!connected && !lasting) this.stretches.push({ startMs: at ?? now(), endMs: undefined });
      if (connected && lasting) last.endMs = Math.max(last.startMs, at ?? now());
    });
  }

  list(): readonly Stretch[] {
    return this.stretches;
  }

  /**
   * For a wait whose time is up at `nowMs`: a broker unheard for QUIET_HOLD_MS and not yet told lost
   * (the probe tells a silence only after SILENCE_MS) holds the end until the probe decides, a check
   * of it later (this moment is returned); undefined when nothing holds it. Told lost by then, its
   * silence is left out and the wait goes on; heard again, the wait ends. A broker stopped 3 s
   * before the end of the wait used to have its silence counted as waiting, and the run refused.
   */
  holdUntil(nowMs: number): number | undefined {
    const last = this.stretches.at(-1);
    const heard = this.watch.lastHeardAt;
    if ((last !== undefined && last.endMs === undefined) || heard === undefined) return undefined;
    const decided = heard + SILENCE_MS + SILENCE_CHECK_MS;
    return nowMs - heard >= QUIET_HOLD_MS && decided > nowMs ? decided : undefined;
  }
}

/** How late after SILENCE_MS the probe's check may tell the silence (twins/broker-watch.ts checks every 500 ms). */
const SILENCE_CHECK_MS = 500;

/** What a wait left out of its time, for the refusal: the broker's silences, the process's stalls (ms). */
export interface LeftOut {
  readonly totalMs: number;
  readonly brokerMs: number;
  readonly stalledMs: number;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** What a wait from `startMs` to `toMs` on `timer` (afterRunning) left out, for its refusal. */
export function leftOutOf(
  timer: { stalledMs(): number },
  startMs: number,
  toMs: number,
  stalls: StallWatch | undefined,
  silences: BrokerSilences | undefined,
): LeftOut {
  return {
    totalMs: timer.stalledMs(),
    brokerMs: coveredWithin(silences?.list() ?? [], startMs, toMs),
    stalledMs: coveredWithin(stalls?.list() ?? [], startMs, toMs),
  };
}

/** `of the broker answering (30.0 s left out: …)`, or nothing when nothing was left out. */
function leftOutWords(l: LeftOut | undefined): string {
  if (l === undefined || l.totalMs <= 0) return "";
  const why = [
    ...(l.brokerMs > 0
      ? [`the broker answered nothing for ${seconds(l.brokerMs)} s and could publish no will`]
      : []),
    ...(l.stalledMs > 0 ? [`this process did not run for ${seconds(l.stalledMs)} s`] : []),
  ];
  return ` of the broker answering (${seconds(l.totalMs)} s left out: ${why.join("; ")})`;
}

/** Some of the fleet's ids stayed online on the broker before its nodes boot. */
export class FleetIdsInUseError extends Error {
  override readonly name = "FleetIdsInUseError";
  constructor(
    readonly url: string,
    readonly prefix: string,
    readonly ids: readonly NodeId[],
    fleet: number,
    waitedMs: number,
    whose = "this fleet's",
    /** Online (their statuses say so), or claimed by another run about to boot them (fleet/fleet-claim.ts). */
    how: "online" | "claimed" = "online",
    /** The time the wait did not count (the broker silent, this process stopped), when any. */
    leftOut?: LeftOut,
  ) {
    const named = ids.slice(0, 3).join(", ") + (ids.length > 3 ? ` and ${ids.length - 3} more` : "");
    const found =
      how === "online"
        ? `are online on ${url} (prefix ${prefix}: ${named}) and stayed online for ${seconds(waitedMs)} s${leftOutWords(leftOut)}: another fleet or a board is connected with them`
        : `are claimed on ${url} (prefix ${prefix}: ${named}) by another run starting at the same time, and stayed claimed for ${seconds(waitedMs)} s${leftOutWords(leftOut)}: another fleet is booting with them`;
    super(
      `${ids.length} of ${whose} ${fleet} node ids ${found}, and each connection would take the other's over. Give this fleet a prefix of its own (--prefix), or stop the other; if nothing uses them (a status a broker kept without its last will), --fresh clears them`,
    );
  }
}

/** The run was asked to stop (Ctrl-C, SIGTERM) while it waited for its ids to go offline. */
export class FleetStartStoppedError extends Error {
  override readonly name = "FleetStartStoppedError";
  constructor(
    readonly reason: unknown,
    /** What the start was doing when stopped. */
    doing = "waiting for the fleet's ids to go offline",
  ) {
    super(`stopped while ${doing}: nothing ran`);
  }
}

/** For a connect's catch: its error, or a FleetStartStoppedError (`doing`) once `stop` is aborted. */
export function stoppedWhile(stop: AbortSignal | undefined, doing: string): (e: unknown) => never {
  return (e) => {
    throw stop?.aborted ? new FleetStartStoppedError(stop.reason, doing) : e;
  };
}

/**
 * `work`, or at `stop`'s abort a FleetStartStoppedError (`doing`) at once: for a step of a start that
 * waits on the broker (a subscription, a publish's acknowledgement) and takes no signal of its own.
 * A broker that accepted the connection and then answered nothing held the stop until the step's
 * own end (a keepalive's 15-22 s, or never with its pings answered). `work` is left to end by itself:
 * the caller ends its connection.
 */
export function unlessStopped<T>(
  work: Promise<T>,
  stop: AbortSignal | undefined,
  /** What the step does; a function is read at the stop (how far it got). */
  doing: string | (() => string),
): Promise<T> {
  if (stop === undefined) return work;
  work.catch(() => {}); // settled after the stop: nobody waits for it any more
  const stopped = () => new FleetStartStoppedError(stop.reason, typeof doing === "string" ? doing : doing());
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(stopped());
    if (stop.aborted) return aborted();
    stop.addEventListener("abort", aborted, { once: true });
    work.then(
      (v) => {
        stop.removeEventListener("abort", aborted);
        resolve(v);
      },
      (e: unknown) => {
        stop.removeEventListener("abort", aborted);
        reject(stop.aborted ? stopped() : e);
      },
    );
  });
}

/** What a stop during `--fresh`'s clearing says: how many of the retained messages the broker acknowledged. */
export const clearingWords = (cleared: number, total: number, whose: string): string =>
  `clearing the retained report, config and status of ${whose} nodes (--fresh): ${cleared} of ${total} cleared, the rest may still be on the broker`;

/**
 * Throws FleetIdsInUseError when any of `ids` is online on the broker and stays online for `waitMs`
 * (a warning says the run waits); resolves at once when none is. Resolves to whether it waited (some
 * were online, and went offline within the wait). `stop` aborted ends the wait at once, with a
 * FleetStartStoppedError: a Ctrl-C or SIGTERM during it used to be answered only once it was over
 * (up to 23.5 s), and the run then started its nodes only to cut them short. `waitMs` is time this
 * process ran: a stall of it (stopped, its VM paused) is not counted, as the broker may have been
 * stopped with it (one host, one VM) and could not have published the wills meanwhile; a `kill -STOP`
 * of 30 s in the wait used to end it at `kill -CONT` and refuse the run. Nor is the time `silences`
 * tells the broker answered nothing (stopped alone, hung): a wait that ends while it is silent goes
 * on until it answers again; a broker stopped for 30 s in the wait used to have the run refused.
 */
export async function refuseIdsInUse(
  where: { readonly url: string; readonly prefix: string; readonly fleet: number; readonly whose?: string },
  ids: readonly NodeId[],
  presence: Presence,
  waitMs: number,
  scheduler: Scheduler,
  warn: (line: string) => void,
  stop?: AbortSignal,
  /** Tells the time this process did not run, which is not counted as waiting (node/stall-watch.ts). */
  stalls: StallWatch | undefined = stallWatchOf(scheduler),
  /** The broker's silences a probe of it tells (none without one). */
  silences?: BrokerSilences,
): Promise<boolean> {
  const online = () => ids.filter((id) => presence.online(id));
  if (online().length === 0) return false;
  warn(
    `${online().length} of the fleet's ids are online on the broker: waiting up to ${(waitMs / 1000).toFixed(1)} s for them to go offline (a fleet whose machine lost power or its network just now stays online until the broker's keepalive runs out)`,
  );
  const startMs = scheduler.now();
  let leftOut: LeftOut | undefined;
  await new Promise<void>((resolve) => {
    const done = () => {
      leftOut = leftOutOf(timer, startMs, scheduler.now(), stalls, silences);
      timer.cancel();
      unwatch();
      stop?.removeEventListener("abort", done);
      resolve();
    };
    const timer = afterRunning(
      scheduler,
      waitMs,
      done,
      stalls,
      () => silences?.list() ?? [],
      (now) => silences?.holdUntil(now),
    );
    const unwatch = presence.watch(() => {
      if (online().length === 0) done();
    });
    if (stop?.aborted) done();
    else stop?.addEventListener("abort", done);
  });
  if (stop?.aborted) throw new FleetStartStoppedError(stop.reason);
  const still = online();
  if (still.length > 0)
    throw new FleetIdsInUseError(
      where.url,
      where.prefix,
      still,
      where.fleet,
      waitMs,
      where.whose,
      "online",
      leftOut,
    );
  return true;
}

/** The presence the broker's retained statuses show (a shard's watch, sim/broker-registry.ts). */
export function registryPresence(registry: {
  get(id: string): { readonly online: boolean } | undefined;
  on(event: "updated", f: () => void): unknown;
  off(event: "updated", f: () => void): unknown;
}): Presence {
  return {
    online: (id) => registry.get(id)?.online === true,
    watch: (changed) => {
      registry.on("updated", changed);
      return () => registry.off("updated", changed);
    },
  };
}

/** The presence a twins service shows (its twins' `presence`). */
export function twinsPresence(twins: {
  get(id: string): { readonly presence: string } | undefined;
  on(event: "twin-updated", f: () => void): unknown;
  off(event: "twin-updated", f: () => void): unknown;
}): Presence {
  return {
    online: (id) => twins.get(id)?.presence === "online",
    watch: (changed) => {
      twins.on("twin-updated", changed);
      return () => twins.off("twin-updated", changed);
    },
  };
}
