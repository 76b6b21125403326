/**
 * A live fleet's faults, which are the world's, not injected: the twins service's broker while it is
 * silent, its connection down or not made yet (the operator's view is not current then: the nodes
 * are shown as last known, from the service's store before the first connection), and the nodes
 * told as flapping in the last FLAP_SHOWN_MS, as one fault, and other twins services on the fleet. A
 * loss of the broker that is the service's own stall (it did not run: node/stall-watch.ts) says so.
 * Kept from the service's `broker`, `twin-flapping` and `other-services` events for the console and
 * the web page (view/twins-source.ts).
 */
import { minOf } from "../node/extremes.js";
import type { Stall } from "../node/stall-watch.js";
import type { NodeId } from "../protocol/index.js";
import {
  type AwaySpan,
  AwaySpans,
  type BrokerDropped,
  type BrokerLoss,
  outlastedStall,
  serviceStalled,
  type Twins,
  type TwinsServiceInfo,
} from "../twins/index.js";
import type { ConsoleFault } from "./source.js";

/** How the broker is away: silent, its connection lost, or never reached since the service started. */
export type BrokerAway = BrokerLoss | "unreached";

const AWAY: Record<BrokerAway, string> = {
  silent: "broker silent",
  lost: "broker connection lost",
  unreached: "broker not reached yet",
};

/** What of the twins service `/healthz` reads (`LiveFaults.health`). */
export type ServiceHealth = Partial<Pick<Twins, "waiting" | "lostCause" | "unsavedSince" | "unsavedCause">>;

/** Whole seconds from `since` to `now`. */
const forS = (now: number, since: number) => Math.round((now - since) / 1000);

/**
 * The convergence history's writes failing (`Twins.historyUnwritten`), for `/healthz`'s `degraded`
 * list: the chart's history is a view, not state (nothing a command changed is lost with it), so
 * `/healthz` stays 200; but said there, and in `twinfleet_twins_history_written`, not only logged.
 */
export function historyHealth(now: number, h: ReturnType<NonNullable<Twins["historyUnwritten"]>>): string[] {
  if (h === undefined) return [];
  return [
    `convergence history ${h.file} cannot be written (${h.cause}) for ${forS(now, h.since)} s: the chart's history is kept in memory only, and a restart loses what it has gained since`,
  ];
}

/** How long a node told as flapping stays among the faults shown. */
export const FLAP_SHOWN_MS = 300_000;

export class LiveFaults {
  /**
   * While the broker is away: since when, how (silent with the connection up, down, never reached),
   * and the service's own stall it was lost in (the stall's, unless it lasts well beyond it).
   */
  private brokerLost:
    | { readonly since: number; readonly how: BrokerAway; readonly stall?: Stall }
    | undefined;
  /** The broker's last outages, oldest first; the one under way has no `to` (twins/broker-spans.ts). */
  private readonly spans = new AwaySpans();
  /** While other twins services hold a presence on the fleet: their ids, and since when there was one. */
  private others: { readonly ids: string; readonly since: number } | undefined;
  /** Nodes told as flapping, with when. */
  private readonly flapping = new Map<NodeId, number>();

  /**
   * The broker lost (`how`, last heard at `lastHeardAt`) or back (`connected`), at `now`. A silence
   * that ends with the connection dropping is the same outage, from the same time.
   */
  broker(connected: boolean, now: number, lastHeardAt?: number, how?: BrokerAway, stall?: Stall): void {
    const own = stall === undefined ? {} : { stall };
    if (connected) this.brokerLost = undefined;
    else if (how === "silent") this.brokerLost = { since: lastHeardAt ?? now, how, ...own };
    else if (how === "unreached") this.brokerLost = { since: now, how };
    else this.brokerLost = { since: this.brokerLost?.since ?? now, how: "lost", ...own };
    this.spans.broker(connected, now, lastHeardAt, how);
  }

  /**
   * The broker's outages once reached, the last AWAY_SPANS, oldest first, on the clock `broker()` is given: while
   * one lasted nothing was heard, so what the view held then is the fleet as it was before.
   */
  away(): readonly AwaySpan[] {
    return this.spans.all();
  }

  /**
   * The service's `broker` event at `now` (a service still `waiting`: since it started), kept as
   * `broker()` keeps it; the line the event log shows for it.
   */
  brokerTold(
    connected: boolean,
    now: number,
    told: {
      readonly lastHeardAt?: number;
      readonly how?: BrokerAway;
      readonly stall?: Stall;
      /** The nodes the service knows (from its store) as it tells it: none, and there is nothing shown. */
      readonly known?: number;
    },
    waiting?: Twins["waiting"],
  ): { readonly level: "info" | "warn"; readonly text: string } {
    const { lastHeardAt, how, stall, known } = told;
    const was = this.brokerLost;
    this.broker(connected, how === "unreached" ? (waiting?.since ?? now) : now, lastHeardAt, how, stall);
    if (connected) {
      if (was?.how === "unreached") return { level: "info", text: "broker reached" };
      if (stall !== undefined)
        return { level: "info", text: `broker connection back: ${serviceStalled(stall)}` };
      // Lost in the service's stall, but away well beyond it: the broker's (or the path's) too.
      if (was?.stall !== undefined)
        return {
          level: "warn",
          text: `broker connection back: ${outlastedStall(was.stall)}`,
        };
      return { level: "info", text: "broker connection back" };
    }
    const own = stall === undefined ? "" : `; ${serviceStalled(stall)}`;
    const text =
      how === "unreached"
        ? `broker not reached yet (${waiting?.cause ?? "connecting"}): ${known === 0 ? "no node is known (nothing stored): they are shown once it answers" : "the nodes are shown as last stored, until it answers"}`
        : how === "silent"
          ? `broker silent (connected, nothing heard for 5 s)${own}: what is shown is as it was, until it answers`
          : `broker connection lost${own}: what is shown is as it was, until it is back`;
    return { level: "warn", text };
  }

  /**
   * Why the view is not current at `now`, for `/healthz`: a service still `waiting` for its broker
   * (named, with the last attempt's failure), or the broker away, for how long; and, either way,
   * its desired state not saved (`unsavedSince`: a full, read-only or stalled disk), where, why and for how
   * long, as a restart then loses what changed since. Undefined when none of these.
   */
  health(now: number, twins: ServiceHealth = {}): string | undefined {
    const away = this.awayHealth(now, twins.waiting, twins.lostCause);
    const since = twins.unsavedSince;
    if (since === undefined) return away;
    const unsaved = `${twins.unsavedCause ?? "the desired state cannot be saved"}: for ${forS(now, since)} s what changes is held in memory only, and a restart now loses it`;
    return away === undefined ? unsaved : `${away}; and ${unsaved}`;
  }

  private awayHealth(now: number, waiting?: Twins["waiting"], lostCause?: string): string | undefined {
    if (waiting !== undefined)
      return waiting.cause === undefined
        ? `connecting to the broker at ${waiting.broker}: not reached yet`
        : `not connected since start (${forS(now, waiting.since)} s): ${waiting.cause}; trying again`;
    const away = this.brokerLost;
    if (away === undefined) return undefined;
    const what = {
      silent: "the broker has been silent (connected, nothing heard)",
      lost: "the broker connection has been lost",
      unreached: "the broker has not been reached",
    }[away.how];
    const own = away.stall === undefined ? "" : ` (${serviceStalled(away.stall)})`;
    const why = away.how === "lost" && lostCause !== undefined ? `; reconnecting: ${lostCause}` : "";
    return `${what} for ${forS(now, away.since)} s${own}: the nodes are shown as they were, until it is back${why}`;
  }

  /**
   * The service's `other-services` event at `now`: the fault kept from when there was first another
   * twins service on the fleet until there is none; the line the event log shows for it.
   */
  othersTold(
    services: readonly TwinsServiceInfo[],
    now: number,
  ): { readonly level: "info" | "warn"; readonly text: string } {
    const ids = services.map((x) => x.clientId).join(", ");
    this.others = services.length === 0 ? undefined : { ids, since: this.others?.since ?? now };
    return services.length === 0
      ? { level: "info", text: "no other twins service on the fleet any more" }
      : { level: "warn", text: `another twins service controls this fleet too: ${ids}` };
  }

  flapped(id: NodeId, now: number): void {
    this.flapping.set(id, now);
  }

  /** The faults at `now`. */
  list(now: number): ConsoleFault[] {
    const out: ConsoleFault[] = [];
    const lost = this.brokerLost;
    if (lost !== undefined)
      out.push({
        what: lost.stall === undefined ? AWAY[lost.how] : `${AWAY[lost.how]} (${serviceStalled(lost.stall)})`,
        since: lost.since,
      });
    if (this.others !== undefined)
      out.push({
        what: `another twins service controls this fleet too (${this.others.ids})`,
        since: this.others.since,
      });
    const flap = this.flappingFault(now);
    if (flap !== undefined) out.push(flap);
    return out;
  }

  /** The nodes told as flapping lately, as one fault (since the first of them); none when none. */
  private flappingFault(now: number): ConsoleFault | undefined {
    for (const [id, at] of this.flapping) if (now - at > FLAP_SHOWN_MS) this.flapping.delete(id);
    if (this.flapping.size === 0) return undefined;
    const ids = [...this.flapping.keys()];
    const more = ids.length > 3 ? ` and ${ids.length - 3} more` : "";
    return {
      what: `${ids.length} flapping (another client with the same id?): ${ids.slice(0, 3).join(", ")}${more}`,
      since: minOf(this.flapping.values()),
    };
  }
}

/** The event log's line for messages the broker dropped (the service's log says more). */
export function droppedLine(what: BrokerDropped, n: number): string {
  return what === "retained-write"
    ? `the broker dropped ${n} retained write${n === 1 ? "" : "s"} of the twins service (acknowledged, never delivered back: its access rules?)`
    : `the broker dropped ${n} message${n === 1 ? "" : "s"} for full client queues (Mosquitto's max_queued_messages)`;
}

/** How many node ids the restart's line names before summing the rest. */
const RESTART_NAMED = 3;

/**
 * The event-log line of a broker restarted while the service's connection was down: one line for
 * the nodes it leaves unheard (twins/node-presence.ts), however many, not one a node. `before`: told
 * at the first connection, since the service before read it; the statuses replayed after it are
 * unheard as they come.
 */
export function restartLine(nodes: readonly NodeId[], how: string, before = false): string {
  if (nodes.length === 0 && before)
    return `the broker restarted since the service before this one on its data directory read it (${how}): the statuses it replays are not counted online until their nodes are heard, offline when the will comes`;
  if (nodes.length === 0)
    return `the broker restarted (${how}); every node shown online has been heard since`;
  const named = nodes.slice(0, RESTART_NAMED).join(", ");
  const more = nodes.length > RESTART_NAMED ? `, … ${nodes.length - RESTART_NAMED} more` : "";
  const n = nodes.length === 1 ? "1 node" : `${nodes.length} nodes`;
  return `the broker restarted (${how}): ${n} not heard since (${named}${more}), online only by the status it kept: not counted online until heard, offline when the will comes`;
}

/** The event-log line of a lost member of the broker's cluster (twins/member-loss.ts): one line, not one a node. */
export function memberLostLine(member: string, nodes: readonly NodeId[]): string {
  if (nodes.length === 0) return `cluster member ${member} lost; no node shown online was on it`;
  const named = nodes.slice(0, RESTART_NAMED).join(", ");
  const more = nodes.length > RESTART_NAMED ? `, … ${nodes.length - RESTART_NAMED} more` : "";
  const n = nodes.length === 1 ? "1 node" : `${nodes.length} nodes`;
  return `cluster member ${member} lost (down, or cut off from Redis): ${n} on it unheard (${named}${more}): not counted online until heard, offline when the will comes`;
}
