/**
 * The other control servers on the fleet, watched for as long as the service runs (docs/twins.md,
 * "Another twins service"). A service that holds a presence subscribes to `<p>/control/+` on its own
 * connection once its presence is published, and tells each change of who else holds one: another
 * service appearing (started later, seen again after a broker restart or a healed partition), and
 * leaving (its presence cleared by its goodbye or its will). The check used to be made once, at the
 * first connection: a service started second warned, the one already running never did, and neither
 * said anything of a service that came or went later.
 *
 * On each (re)connect the broker replays the retained presences; one not replayed by the end of the
 * replay (the one wait of twins/replay-end.ts, from this subscription's SUBACK: the replay marker
 * back, then no presence for REPLAY_SETTLE_MS) left while the connection was down, unless it comes
 * back within RECONNECT_GRACE_MS. It ended on the quiet time alone: a replay pausing past it on a
 * loaded host told the presences in two lines, or one replayed late as come and gone. What the replay shows is told once it is
 * over, in one line. A clear of this service's own
 * presence while it runs (a copy of its data directory started elsewhere, taking it for its dead
 * predecessor: twins/predecessor.ts) is answered by publishing the presence again, unless the
 * connection closes within OWN_CLEAR_WAIT_MS: then it was the will the broker published as it stopped.
 */
import type { Logger } from "pino";
import type { NodeId, Prefix } from "../protocol/index.js";
import { after, type Scheduler } from "./clock.js";
import { controlTopic, decodePresence, encodePresence, type TwinsServiceInfo } from "./presence.js";
import { ReplayEnd, type ReplayMarking } from "./replay-end.js";
import { subscribeUnlessRefused } from "./subscriptions.js";
import type { Twin, TwinsEvents } from "./types.js";

/**
 * How long a presence the replay after a reconnect did not show may still come back before it counts
 * as gone: after a broker restarted empty the services reconnect each on its own retry, up to a
 * second apart, and the one back second was told as having left, then as come again.
 */
export const RECONNECT_GRACE_MS = 5000;

/**
 * How long a clear of this service's own presence waits before it is answered: a broker that stops
 * (Mosquitto on SIGTERM) publishes its clients' wills, this service's among them, just before it
 * closes their connections. It was told at once as another client's doing, "a copy of its data
 * directory started elsewhere", and the presence published again to a broker on its way down.
 */
export const OWN_CLEAR_WAIT_MS = 1000;

export interface OtherServicesOptions {
  readonly prefix: Prefix;
  readonly clientId: string;
  readonly startedAt: number;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
}

/** What the watch needs of the connection: a subscription and a retained publish, each acknowledged. */
export interface ControlClient {
  subscribeAsync(topic: string, opts: { qos: 1 }): Promise<unknown>;
  publishAsync(topic: string, payload: string, opts: { qos: 1; retain: true }): Promise<unknown>;
  /** The connection's end (mqtt.js's `close`), once. */
  once?(event: "close", listener: () => void): unknown;
}

const when = (s: TwinsServiceInfo) =>
  s.since !== undefined ? ` since ${new Date(s.since).toISOString()}` : "";
const named = (list: readonly TwinsServiceInfo[]) => list.map((s) => `${s.clientId}${when(s)}`).join(", ");

export class OtherServices {
  /** The presences the broker holds now, by client id (`since` when given). */
  private readonly present = new Map<string, TwinsServiceInfo>();
  /** The list last told (logged and emitted). */
  private told: readonly TwinsServiceInfo[] = [];
  /** During a replay: the client ids it has shown so far. */
  private replay: Set<string> | undefined;
  /** The wait for the end of the presences' replay after each SUBACK (twins/replay-end.ts). */
  private readonly end: ReplayEnd;
  /** The grace for the presences a replay did not show (RECONNECT_GRACE_MS). */
  private settle: { cancel(): void } | undefined;
  private client: ControlClient | undefined;
  /** Presences heard since the last replay ended (a service that reconnected after this one). */
  private readonly again = new Set<string>();
  private stopped = false;
  private refusedTold = false;
  /** A clear of this service's own presence, answered once OWN_CLEAR_WAIT_MS passed with the connection up. */
  private ownClear: { cancel(): void } | undefined;

  constructor(
    private readonly opts: OtherServicesOptions,
    private readonly changed: (services: readonly TwinsServiceInfo[]) => void,
    /** The link's replay marker (twins/replay-marker.ts): none, the quiet time alone. */
    marker?: ReplayMarking,
  ) {
    this.end = new ReplayEnd(opts.scheduler, marker, () => this.replayOver());
  }

  /** The other services holding a presence, sorted by client id, as last told. */
  get list(): readonly TwinsServiceInfo[] {
    return this.told;
  }

  private get base(): string {
    return controlTopic(this.opts.prefix, "");
  }

  /** Once the presence is published on a (re)connect: subscribes, and judges the replay when it ends. */
  async subscribe(client: ControlClient): Promise<void> {
    this.client = client;
    client.once?.("close", () => this.closed());
    this.settle?.cancel();
    this.settle = undefined;
    this.end.stop();
    this.replay = new Set();
    this.again.clear();
    // Never a reason not to serve: a broker whose access rules refuse the topic is told once; a
    // connection lost meanwhile subscribes again on reconnecting.
    const subscribed = await subscribeUnlessRefused(client, `${this.base}+`, 1).catch(() => true);
    if (!subscribed) {
      this.replay = undefined;
      if (!this.refusedTold)
        this.opts.logger.warn(
          `twins: the broker refused the subscription to ${this.base}+: another twins service on this fleet is not told (its access rules must let a control login read the presences)`,
        );
      this.refusedTold = true;
      return;
    }
    this.end.begin();
  }

  /** A message from the broker: true when it was a presence (handled here), false for anything else. */
  message(topic: string, payload: Buffer, retained: boolean): boolean {
    if (!topic.startsWith(this.base)) return false;
    const clientId = topic.slice(this.base.length);
    if (clientId === "") return true;
    if (clientId.includes("/")) return false; // not a presence: a held question (twins/held-answers.ts)
    if (clientId === this.opts.clientId) {
      if (payload.length === 0) this.ownCleared();
      return true;
    }
    const presence = payload.length === 0 ? undefined : decodePresence(payload.toString("latin1"));
    if (payload.length > 0 && presence === undefined) return true; // not a presence: no service
    if (this.replay !== undefined) {
      // Replayed, or published live since the subscription (a service that reconnected just after).
      if (retained) this.end.replayed();
      if (presence !== undefined) this.replay.add(clientId);
      else this.replay.delete(clientId);
    }
    if (presence === undefined) this.present.delete(clientId);
    else this.present.set(clientId, { clientId, ...presence });
    if (presence !== undefined) this.again.add(clientId);
    else this.again.delete(clientId);
    if (this.replay === undefined) this.tell();
    return true;
  }

  /** Closing: nothing more is told or published. */
  stop(): void {
    this.stopped = true;
    this.end.stop();
    this.settle?.cancel();
    this.settle = undefined;
    this.ownClear?.cancel();
    this.ownClear = undefined;
  }

  /**
   * The connection closed: a clear of this service's presence just before it was the broker's, the
   * will it published as it stopped. Told as that; the presence is published again on reconnecting.
   */
  private closed(): void {
    if (this.ownClear === undefined || this.stopped) return;
    this.ownClear.cancel();
    this.ownClear = undefined;
    this.opts.logger.info(
      `twins: the broker published this service's will (its presence ${controlTopic(this.opts.prefix, this.opts.clientId)} cleared) as it closed the connection, as a broker stopping does: the presence is published again once reconnected`,
    );
  }

  private replayOver(): void {
    const shown = this.replay ?? new Set<string>();
    this.replay = undefined;
    this.tell();
    // Not replayed: its presence was cleared while this service was away from the broker, or the
    // broker restarted empty and it has not reconnected yet (both retry every second, out of step).
    const missing = [...this.present.keys()].filter((id) => !shown.has(id));
    if (missing.length === 0) return;
    this.settle = after(this.opts.scheduler, RECONNECT_GRACE_MS, () => {
      this.settle = undefined;
      for (const id of missing) if (!this.again.has(id)) this.present.delete(id);
      this.again.clear();
      this.tell();
    });
  }

  /** Logs and emits the change between what was told and what the broker holds now, if any. */
  private tell(): void {
    if (this.stopped) return;
    const now = [...this.present.values()].sort((a, b) =>
      a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0,
    );
    const before = new Set(this.told.map((s) => s.clientId));
    const ids = new Set(now.map((s) => s.clientId));
    const came = now.filter((s) => !before.has(s.clientId));
    const left = this.told.filter((s) => !ids.has(s.clientId));
    if (came.length === 0 && left.length === 0) return;
    this.told = now;
    const { logger } = this.opts;
    const services = now.map((s) => s.clientId);
    if (left.length > 0) {
      const rest =
        now.length === 0 ? "this service is the only one on the fleet again" : `still on it: ${named(now)}`;
      // At the warning's level: a log kept at warn tells that it cleared (as the broker's return).
      logger.warn(
        { left: left.map((s) => s.clientId), services },
        `twins: ${left.length === 1 ? "the other twins service" : `${left.length} other twins services`} ${left.map((s) => s.clientId).join(", ")} left the fleet (presence cleared: stopped, killed or cut off); ${rest}`,
      );
    }
    if (came.length > 0) {
      logger.warn(
        { services },
        `twins: ${came.length === 1 ? "another twins service controls" : `${came.length} other twins services control`} this fleet (${named(came)}): each sends its own desired pairings and sets, and they undo each other's; run one per fleet (one that no longer runs left its presence on a broker that lost its last will, after a power loss: clear it with an empty retained message, ${came.map((s) => `mosquitto_pub -r -n -t ${controlTopic(this.opts.prefix, s.clientId)}`).join("; ")})`,
      );
    }
    this.changed(now);
  }

  /** This service's presence cleared while it runs: unless the connection closes meanwhile, by someone else. */
  private ownCleared(): void {
    if (this.stopped || this.client === undefined || this.ownClear !== undefined) return;
    this.ownClear = after(this.opts.scheduler, OWN_CLEAR_WAIT_MS, () => {
      this.ownClear = undefined;
      this.clearedByAnother();
    });
  }

  /** This service's presence cleared by someone else while it runs: published again. */
  private clearedByAnother(): void {
    const client = this.client;
    if (this.stopped || client === undefined) return;
    this.opts.logger.warn(
      `twins: another client cleared this service's presence (${controlTopic(this.opts.prefix, this.opts.clientId)}): a copy of its data directory started elsewhere takes it for its dead predecessor; published again, as this service still runs`,
    );
    client
      .publishAsync(controlTopic(this.opts.prefix, this.opts.clientId), encodePresence(this.opts.startedAt), {
        qos: 1,
        retain: true,
      })
      .catch((err: unknown) =>
        this.opts.logger.debug({ err }, "twins: the presence was not published again"),
      );
  }
}

/**
 * A pairing this service desired, replaced by another control tool's config (the node commanded by
 * it, or its config written while the node was away): which tool's pairing stands now. A warning
 * while another twins service is on the fleet (two controllers: this one's pairing was undone, or
 * is being fought over); else a line of the log (a one-shot `twinfleet pair` is no conflict). The
 * same line for the service's log and the console's event log (view/twins-source.ts).
 */
export function replacedLine(
  twin: Twin,
  was: readonly NodeId[],
  others: readonly TwinsServiceInfo[],
  fromStore = false,
): { readonly level: "info" | "warn"; readonly text: string } {
  const list = (l: readonly string[]) => (l.length === 0 ? "nobody" : l.join(", "));
  const text = `the pairing of ${twin.id} was replaced by ${replacedBy(twin, fromStore, list)} (this service had ${list(was)})`;
  if (others.length === 0) return { level: "info", text };
  const ids = others.map((s) => s.clientId).join(", ");
  return {
    level: "warn",
    text: `${text}; another twins service controls this fleet (${ids}): the last command the node carries out stands`,
  };
}

/** By what, and where the node stands now: the middle of `replacedLine`'s sentence. */
function replacedBy(twin: Twin, fromStore: boolean, list: (l: readonly string[]) => string): string {
  const now = list(twin.desired.sources);
  const version = twin.desired.configVersion;
  // Seen before the node's presence (the broker's copies replayed as the service connects): nobody
  // can tell yet whether the node is away, and a newer copy than the stored desire may be this
  // service's own, made after the state it started from (a twins.json restored from an older
  // backup). Every such line said "written for it while it is away … once it returns", of nodes
  // online since.
  if (twin.presence === "unknown")
    return `a newer config the broker holds (version ${version}), seen before the node was heard: another control tool's, or one made after the state this service started from (a twins.json restored from an older backup?); it follows ${now} once the node shows it`;
  // Written for a node away, the pairing is the node's only once it takes it on its return: until
  // then it follows what it did (the twin's `follows`), and the line said "it follows … now".
  if (twin.pairing === "pending")
    return `another control tool's, written for it while it is away: it follows ${now} once it returns`;
  // The node heard first, the store's desire behind its config: not necessarily another tool's, as
  // the line said of a pairing of this service's own that its store never got (a service killed while
  // a frozen disk held its save, the config published and carried out: "A bad disk").
  if (fromStore)
    return `a newer config the node carries (version ${version}), made after the state this service started from: another control tool's, or one of this service's own its store never got (killed while a save was under way?); it follows ${now} now`;
  return `another control tool's, carried out by the node: it follows ${now} now`;
}

/** `replacedLine` in the service's log, with its fields, and the `pairing-replaced` event. */
export function tellReplaced(
  service: {
    get(id: string): Twin | undefined;
    readonly otherServices: readonly TwinsServiceInfo[];
    emit(event: "pairing-replaced", ...args: TwinsEvents["pairing-replaced"]): unknown;
  },
  logger: Logger,
  node: NodeId,
  was: readonly NodeId[],
  fromStore = false,
): void {
  const twin = service.get(node);
  if (twin === undefined) return;
  const others = service.otherServices;
  const line = replacedLine(twin, was, others, fromStore);
  const fields = { node, sources: twin.desired.sources, was };
  if (line.level === "info") logger.info(fields, `twins: ${line.text}`);
  else logger.warn({ ...fields, services: others.map((s) => s.clientId) }, `twins: ${line.text}`);
  service.emit("pairing-replaced", twin, was, others, fromStore);
}
