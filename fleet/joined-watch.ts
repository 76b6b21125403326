/**
 * A run that joined a twins service already on the broker (fleet/setup.ts) watches that service's
 * presence (protocol.md §6: a retained `P1 <since>` on `<prefix>/control/<client id>`, cleared by
 * its close or, when it dies or is cut off, by its will): the service leaving mid-run, and coming back
 * (restarted, when its `since` differs), is logged as it happens and listed in the report's
 * `joinedTwins`. The nodes keep their pairing without it; what they lose is their controller (no
 * set, no pairing change, no query answered by it), which the run's figures do not show.
 */
import type { Scheduler } from "../node/scheduler.js";
import type { Prefix } from "../protocol/index.js";
import { controlTopic, decodePresence, type TwinsServiceInfo } from "../twins/index.js";
import type { HeldReport } from "./joined-held.js";

/** The part of an MQTT client the watch uses: the run's probe client (clean session, reconnecting). */
export interface PresenceClient {
  readonly connected: boolean;
  on(event: "connect", listener: () => void): unknown;
  on(event: "message", listener: (topic: string, payload: Buffer) => void): unknown;
  subscribe(topic: string, opts: { qos: 0 | 1 }): unknown;
}

/** One absence of a controller, on the run's clock: `leftAs`, the service whose leaving began it. */
interface Absence {
  readonly leftMs: number;
  readonly leftAs: string;
  back: { readonly ms: number; readonly clientId: string; readonly restarted: boolean } | undefined;
}

/** The joined service in the report: the spans the fleet had no controller, from the start of the presses (ms). */
export interface JoinedTwinsReport {
  readonly clientId: string;
  readonly left: readonly {
    /**
     * The service that left: the joined one, or a service that had taken its place after an earlier
     * absence (a `twinfleet twins` killed again after its restart).
     */
    readonly clientId: string;
    readonly atMs: number;
    /** When a controller's presence was back; absent when none was by the end. */
    readonly backAtMs?: number;
    /** The controller back: the joined one, or a service started in its place (another client id). */
    readonly backAs?: string;
    /** Not the process the run joined (another client id or start time): its state is what its store held. */
    readonly restarted?: boolean;
  }[];
  /**
   * Other twins services that held a presence beside a controller of the fleet (two controllers,
   * each undoing the other's pairings and sets): each once, when first seen so (ms; negative:
   * before the presses); absent when there was none.
   */
  readonly beside?: readonly BesideEntry[];
  /**
   * Each time the controller of the fleet (the joined service, or one in its place) left while another
   * stayed on the broker, so that the fleet never lacked one (not in `left`): `clientId`, `atMs`, and
   * `stayed`, the controllers still there. Absent when it never happened.
   */
  readonly handedOver?: readonly HandOver[];
  /**
   * Which of the fleet's nodes the controller held a twin of at the end (fleet/joined-held.ts);
   * absent when there was no controller on the broker to ask.
   */
  readonly held?: HeldReport;
}

/** The controller of the fleet left while other controllers stayed (ms from the start of the presses). */
export interface HandOver {
  readonly clientId: string;
  readonly atMs: number;
  readonly stayed: readonly string[];
}

/** Another twins service beside a controller of the fleet. */
export interface BesideEntry {
  readonly clientId: string;
  readonly atMs: number;
  /**
   * The controllers it was beside when first seen so (a joined service's watch only): not always the
   * service joined, which may have left by then. Absent in a report from before it was kept.
   */
  readonly with?: readonly string[];
  /** When its presence was cleared (stopped, killed, cut off); absent while it stayed to the end. */
  readonly leftAtMs?: number;
}

/**
 * The run's own twins service, with the other services seen beside it mid-run (fleet/own-beside.ts),
 * as `beside` above; only when there were.
 */
export interface OwnTwinsReport {
  readonly clientId: string;
  readonly beside: readonly BesideEntry[];
}

export interface JoinedLog {
  warn(line: string): void;
  info(line: string): void;
}

export class JoinedWatch {
  private readonly absences: Absence[] = [];
  /** The controllers present on the broker, by client id: when each started (`since`). */
  private readonly present = new Map<string, number | undefined>();
  /** Controllers seen beside another one, each once: when first seen so, and when last seen leaving. */
  private readonly beside = new BesideList();
  /** The controller leaving while another stayed, on the run's clock. */
  private readonly handOvers: {
    readonly ms: number;
    readonly clientId: string;
    readonly stayed: string[];
  }[] = [];
  /** The controller's answer to which nodes it holds, once asked. */
  held: HeldReport | undefined;

  constructor(
    client: PresenceClient,
    prefix: Prefix,
    private readonly service: TwinsServiceInfo,
    private readonly sched: Scheduler,
    private readonly log: JoinedLog,
  ) {
    this.present.set(service.clientId, service.since);
    // Every controller's presence: a `twinfleet twins` started again has another client id. The probe
    // client's session is clean: subscribed again on each connect, when the retained presences come
    // back, the same when nothing happened.
    const topics = controlTopic(prefix, "+");
    const base = topics.slice(0, -1);
    client.on("connect", () => client.subscribe(topics, { qos: 1 }));
    if (client.connected) client.subscribe(topics, { qos: 1 });
    client.on("message", (t, payload) => {
      if (t.startsWith(base)) this.seen(t.slice(base.length), payload.toString("latin1"));
    });
  }

  private get away(): Absence | undefined {
    const last = this.absences.at(-1);
    return last !== undefined && last.back === undefined ? last : undefined;
  }

  private seen(clientId: string, payload: string): void {
    const now = this.sched.now();
    if (payload === "") this.beside.gone(clientId, now);
    else if (this.beside.has(clientId)) this.beside.present(clientId, now);
    if (payload === "") {
      const wasController = this.controller() === clientId;
      if (!this.present.delete(clientId) || this.away !== undefined) return;
      if (this.present.size > 0) {
        // The controller gone, another still there: the fleet keeps one, but not the one it had.
        if (!wasController || this.beside.has(clientId)) return;
        const stayed = [...this.present.keys()];
        this.handOvers.push({ ms: now, clientId, stayed });
        this.log.warn(
          `the twins service ${clientId} ${clientId === this.service.clientId ? "this run joined" : "controlling the fleet"} has left the broker (its presence was cleared: it was stopped, killed or cut off); ${stayed.join(", ")}, beside it, still controls the fleet`,
        );
        return;
      }
      this.absences.push({ leftMs: now, leftAs: clientId, back: undefined });
      this.log.warn(
        `the twins service ${clientId} ${clientId === this.service.clientId ? "this run joined" : "controlling the fleet"} has left the broker (its presence was cleared: it was stopped, killed or cut off): nothing controls the fleet's pairing and sets until one is back`,
      );
      return;
    }
    const p = decodePresence(payload);
    if (p === undefined) return;
    const was = this.present.get(clientId);
    const known = this.present.has(clientId);
    this.present.set(clientId, p.since);
    const restarted = clientId !== this.service.clientId || p.since !== this.service.since;
    if (!known && this.present.size > 1 && !this.beside.has(clientId)) {
      const besides = [...this.present.keys()].filter((id) => id !== clientId);
      this.beside.present(clientId, now, besides);
      const others = besides.join(", ");
      this.log.warn(
        `another twins service controls the fleet: ${clientId}, beside ${others}: each sends its own pairings and sets, and they undo each other's; the run's re-pairings and sets may be either's`,
      );
    }
    const away = this.away;
    if (away !== undefined) {
      away.back = { ms: now, clientId, restarted };
      // At warn, as the absence was: a log read from warn up (the run's default) said the fleet had no
      // controller, and never that one was back.
      this.log.warn(
        `the fleet has a controller again: the twins service ${clientId}${restarted ? " (restarted)" : ""}`,
      );
    } else if (known && was !== p.since) {
      // Gone and back without its clear reaching this client (the broker itself was lost meanwhile).
      this.absences.push({ leftMs: now, leftAs: clientId, back: { ms: now, clientId, restarted: true } });
      this.log.warn(`the twins service ${clientId} controlling the fleet has restarted`);
    }
  }

  /** The controller of the fleet now: the joined service, or the one in its place; none while away. */
  controller(): string | undefined {
    if (this.present.has(this.service.clientId)) return this.service.clientId;
    return this.present.keys().next().value;
  }

  /** The absences so far, their times from `originMs` (the start of the presses). */
  report(originMs: number): JoinedTwinsReport {
    const ms = (t: number) => Math.round(t - originMs);
    return {
      clientId: this.service.clientId,
      left: this.absences.map((a) => ({
        clientId: a.leftAs,
        atMs: ms(a.leftMs),
        ...(a.back !== undefined
          ? { backAtMs: ms(a.back.ms), backAs: a.back.clientId, restarted: a.back.restarted }
          : {}),
      })),
      ...(this.beside.size > 0 ? { beside: this.beside.report(originMs) } : {}),
      ...(this.handOvers.length > 0
        ? {
            handedOver: this.handOvers.map((h) => ({
              clientId: h.clientId,
              atMs: ms(h.ms),
              stayed: h.stayed,
            })),
          }
        : {}),
      ...(this.held !== undefined ? { held: this.held } : {}),
    };
  }
}

/**
 * Other controllers seen beside one: each once, when first seen so, and when last seen leaving
 * (cleared when it is back). The report's `beside` list, for a joined service and the run's own.
 */
export class BesideList {
  private readonly entries = new Map<
    string,
    { readonly at: number; readonly with: readonly string[] | undefined; left: number | undefined }
  >();

  get size(): number {
    return this.entries.size;
  }

  has(clientId: string): boolean {
    return this.entries.has(clientId);
  }

  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /**
   * `clientId` holds a presence at `now`: listed if new (beside `besides`, the controllers there then,
   * when the caller knows them), no longer gone if it was.
   */
  present(clientId: string, now: number, besides?: readonly string[]): void {
    const b = this.entries.get(clientId);
    if (b === undefined) this.entries.set(clientId, { at: now, with: besides, left: undefined });
    else b.left = undefined;
  }

  /** A listed `clientId`'s presence cleared at `now` (the first clear counts until it is back). */
  gone(clientId: string, now: number): void {
    const b = this.entries.get(clientId);
    if (b !== undefined) b.left ??= now;
  }

  /** The entries, their times from `originMs`. */
  report(originMs: number): BesideEntry[] {
    const ms = (t: number) => Math.round(t - originMs);
    return [...this.entries].map(([clientId, b]) => ({
      clientId,
      atMs: ms(b.at),
      ...(b.with !== undefined ? { with: b.with } : {}),
      ...(b.left !== undefined ? { leftAtMs: ms(b.left) } : {}),
    }));
  }
}
