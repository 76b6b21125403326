/**
 * The twins service's one MQTT connection: opens it (login, TLS, the empty retained will that clears the
 * presence when the service dies), subscribes in a fixed order on every connect, holds the presence,
 * publishes encoded messages, and closes it cleanly (presence cleared first) or abruptly. It probes the
 * broker on the same connection (twins/broker-probe.ts) and logs the broker falling silent, the connection
 * dropping and either coming back, with how long it lasted. The connect timeout runs on the service's
 * scheduler. A service that waits for its broker has its first connection tried again while what fails may
 * pass, told by twins/broker-wait.ts. A message asked for while the connection is not up is refused, and one
 * in flight when it goes is given up, never held for a reconnect (twins/broker-away.ts). `openLink` picks
 * this link or, for a service inside a virtual-time run, the in-process one (wire-link.ts).
 */
import mqtt, { type MqttClient } from "mqtt";
import { type Stall, StallOutage } from "../node/stall-watch.js";
import { encode, heldAskTopic, type Message } from "../protocol/index.js";
import { type BrokerAway, commandName, InFlight, refusal, resetConnection } from "./broker-away.js";
import { BrokerDrops, DROPPED_TOPIC } from "./broker-drops.js";
import { probeBroker } from "./broker-probe.js";
import { type BrokerRestart, serviceRestart } from "./broker-restart.js";
import { logBrokerState } from "./broker-state-log.js";
import type { BrokerWait } from "./broker-wait.js";
import { type BrokerState, type BrokerWatch, watchConnection } from "./broker-watch.js";
import { after } from "./clock.js";
import { closedAtOnceError, failedConnect, onClosedAtOnce, onEachClosedAtOnce } from "./closed-at-once.js";
import { type ConnectPhase, followConnectPhase } from "./connect-phase.js";
import { closedBeforeUpError, connectTimeoutError, sendAtOnce } from "./connection.js";
import { goodbye } from "./link-goodbye.js";
import type { BrokerLinkHandlers } from "./link-handlers.js";
import { linkClientOptions } from "./link-options.js";
import { memberLoss } from "./member-loss.js";
import type { ResolvedTwinsOptions } from "./options.js";
import { OtherServices } from "./other-services.js";
import { PresenceHandover } from "./predecessor.js";
import { PrefixLook } from "./prefix-look.js";
import { controlTopic, encodePresence, type TwinsServiceInfo } from "./presence.js";
import { ReconnectFailures } from "./reconnect-failures.js";
import { backOffRefusals } from "./refusal-backoff.js";
import { ReplayMarker } from "./replay-marker.js";
import { RetainedEcho } from "./retained-echo.js";
import { ServiceSubscriptions } from "./subscriptions.js";
import { WireLink } from "./wire-link.js";

export type { BrokerLinkHandlers } from "./link-handlers.js";
export { CLOSE_GRACE_MS } from "./presence.js";

/** The service's connection, over MQTT.js (a URL) or an in-process wire (twins/wire-link.ts). */
export interface TwinsLink {
  /** The first connection; with `wait`, tried again while what fails may pass (over a URL only). */
  connect(wait?: BrokerWait): Promise<void>;
  /**
   * Publishes `msg`; false once closing. Over a URL, throws BrokerUnavailableError while the
   * connection is not up, or when it goes before the broker acknowledged `msg` (twins/broker-away.ts).
   */
  send(msg: Message): Promise<boolean>;
  /** Publishes `payload` on `topic` at QoS 1 as `send` does; `what` names it in a refusal. */
  publish(topic: string, payload: string, retain: boolean, what: string): Promise<boolean>;
  close(): Promise<void>;
  kill(): Promise<void>;
  /** The other twins services holding a presence on the fleet now (none watched: empty). */
  readonly otherServices: readonly TwinsServiceInfo[];
  /** The nodes under other prefixes (twins/prefix-look.ts); over a URL only. */
  readonly prefixLook?: Pick<PrefixLook, "look">;
  readonly replayMarker?: ReplayMarker; // when the broker's replay is over: over a URL only
  readonly failures?: Pick<ReconnectFailures, "cause">; // why an outage's reconnects fail: over a URL only
  readonly restart?: Pick<BrokerRestart, "ranOn">; // whether the broker ran on since last read: over a URL only
}

/** The link `opts` asks for: over `opts.wire` when given, else MQTT.js to `opts.url`. */
export function openLink(opts: ResolvedTwinsOptions, on: BrokerLinkHandlers): TwinsLink {
  return opts.wire ? new WireLink(opts, opts.wire, on) : new BrokerLink(opts, on);
}

export class BrokerLink implements TwinsLink {
  private client: MqttClient | undefined;
  /** How far the client's connection attempt has got, for a connect that times out. */
  private phase: (() => ConnectPhase | undefined) | undefined;
  /** Set by close() and kill(): nothing more is sent, and the ending connection's errors are not warned of. */
  private closing = false;
  private watch: BrokerWatch | undefined;
  private stopProbe: (() => void) | undefined;
  private outageFrom: number | undefined; // when the broker was last heard from before the outage under way
  private readonly ownStall: StallOutage; // the service's own stall that the outage under way is
  private reached = false; // connected once: from then on a lost connection is an outage, told and reconnected
  /** The first connection's wait, for why the broker is not reached yet; its failure once given up. */
  private wait: BrokerWait | undefined;
  private gaveUp: string | undefined;
  private endFirst: (() => void) | undefined; // ends a first connect under way without a wait
  readonly failures: ReconnectFailures; // why an outage's reconnects fail (reconnect-failures.ts)
  private readonly startedAt: number;
  private readonly inFlight: InFlight;
  private readonly handover: PresenceHandover;
  private readonly subscriptions: ServiceSubscriptions;
  private readonly others: OtherServices | undefined;
  private readonly echo: RetainedEcho; // whether the broker kept the retained writes (retained-echo.ts)
  private readonly drops: BrokerDrops; // Mosquitto's count of the messages it dropped (broker-drops.ts)
  readonly restart: BrokerRestart; // a restarted broker, not only the connection dropped
  readonly prefixLook: PrefixLook;
  readonly replayMarker: ReplayMarker;

  constructor(
    private readonly opts: ResolvedTwinsOptions,
    private readonly on: BrokerLinkHandlers,
  ) {
    this.startedAt = opts.scheduler.now();
    this.failures = new ReconnectFailures(opts);
    this.ownStall = new StallOutage(opts.stalls);
    this.inFlight = new InFlight(opts.url, opts.scheduler);
    this.handover = new PresenceHandover(opts);
    const ask = opts.presence && !opts.passive ? heldAskTopic(opts.prefix, opts.clientId) : undefined;
    this.replayMarker = new ReplayMarker(opts, () => this.client);
    const { cut } = this.replayMarker;
    this.subscriptions = new ServiceSubscriptions(opts.prefix, opts.logger, ask, opts, cut, on.replayCut);
    this.echo = new RetainedEcho(opts, (n) => on.dropped?.("retained-write", n));
    this.drops = new BrokerDrops(opts, (n) => on.dropped?.("to-clients", n));
    this.restart = serviceRestart(opts, (since, how, before) => on.restarted?.(since, how, before));
    this.prefixLook = new PrefixLook(opts, () => this.client, this.replayMarker);
    // A service holding a presence watches for the others for as long as it runs.
    if (opts.presence && !opts.passive) this.others = new OtherServices(opts, on.others, this.replayMarker);
  }

  /** A cluster member's loss told (twins/member-loss.ts): handed on; true when it was one. */
  private memberLost(topic: string, payload: Buffer): boolean {
    const loss = memberLoss(this.opts.prefix, topic, payload);
    if (loss !== undefined) this.on.memberLost?.(loss);
    return loss !== undefined;
  }

  get otherServices(): readonly TwinsServiceInfo[] {
    return this.others?.list ?? [];
  }

  /** Why nothing can be sent now (the broker not reached yet, lost, silent); undefined while it can. */
  private away(): BrokerAway | undefined {
    const state = this.watch?.state;
    if (this.client?.connected === true && state === "up") return undefined;
    const now = this.opts.scheduler.now();
    if (!this.reached) {
      const cause = this.wait?.status?.cause ?? this.gaveUp;
      return {
        how: "unreached",
        since: this.wait?.status?.since ?? this.startedAt,
        ...(cause !== undefined ? { cause } : {}),
      };
    }
    const how = state === "silent" ? "silent" : "lost";
    const cause = how === "lost" ? this.failures.cause : undefined;
    return { how, since: this.outageFrom ?? now, ...(cause !== undefined ? { cause } : {}) };
  }

  /** The service's own probe on its connection (twins/broker-probe.ts): no second client to log in. */
  private probed(client: MqttClient, topic: string): BrokerWatch {
    const probe = probeBroker(client, {
      sched: this.opts.scheduler,
      topic,
      whose: "the twins service's",
      error: () => {},
      unheard: (line) => this.opts.logger.warn(`twins: ${line}`),
    });
    this.stopProbe = probe.stop;
    return probe.watch;
  }

  /** The broker's state changed: logged with the broker named, and told to the service, with the service's own stall it is. */
  private told(state: BrokerState, was: BrokerState, lastHeardAt: number): void {
    const { logger, scheduler, url } = this.opts;
    if (this.closing || !this.reached) return; // before the first connect: never up, no outage
    const now = scheduler.now();
    if (was === "up") this.outageFrom = lastHeardAt;
    const up = state === "up";
    const { stall, outlasted } = this.ownStall.told(up, was === "up", now);
    logBrokerState(logger, url, state, was, now - (this.outageFrom ?? now), stall, outlasted);
    if (up) {
      this.outageFrom = undefined;
      this.failures.cause = undefined;
    }
    const own: [] | [Stall] = stall === undefined ? [] : [stall];
    this.on.connection(up, up ? undefined : (this.outageFrom ?? lastHeardAt), up ? undefined : state, ...own);
  }

  private get presenceTopic(): string {
    return controlTopic(this.opts.prefix, this.opts.clientId);
  }

  /**
   * Resolves on the first connect once subscribed. Without `wait`, rejects on an error or after the
   * connect timeout. With it, a failure that may pass (`BrokerConnectError.transient`) is told to
   * `wait` and the connection is tried again every reconnect period, as after an outage; only what
   * retrying cannot fix (a refused login, TLS, a server that does not speak MQTT) rejects.
   */
  connect(wait?: BrokerWait): Promise<void> {
    const { opts } = this;
    // Closed first (a run stopped as it was made): no client, which nothing would end (it held the process).
    if (this.closing) return Promise.reject(closedBeforeUpError(opts.url));
    // Subscriptions are made in a fixed order on every connect (see onConnect).
    const client = mqtt.connect(opts.url, linkClientOptions(opts, this.presenceTopic));
    this.client = client;
    sendAtOnce(client);
    backOffRefusals(client, opts.reconnectPeriodMs);
    this.phase = followConnectPhase(client, opts.url);
    const probeTopic = opts.probe ? `${opts.prefix}/twins-probe/${opts.clientId}` : undefined;
    client.on("message", (topic, payload, packet) => {
      this.echo.seen(topic);
      if (topic === DROPPED_TOPIC) this.drops.count(payload);
      else if (this.handover.message(topic, payload) || this.prefixLook.message(topic, payload)) return;
      else if (this.replayMarker.message(topic, payload, packet.retain)) return;
      else if (this.restart.message(topic, payload)) return;
      else if (this.memberLost(topic, payload)) return;
      else if (topic !== probeTopic && this.others?.message(topic, payload, packet.retain === true) !== true)
        this.on.message(topic, payload, packet.qos === 1 ? 1 : 0, packet.retain === true);
    });
    // An outage is told once, when it starts and when it ends; why its reconnects fail (one a
    // second) is told at the first and when it changes (a name that stopped resolving, then a port
    // that refuses), not at each. What the ending connection reports once the service is closing is
    // no news. Before the first connect, a failure is told by what connect() resolves to (or by `wait`).
    client.on("error", (err) => {
      if (this.closing || !this.reached) opts.logger.debug({ err }, "twins: broker connection error");
      else if (this.watch?.state === "lost")
        this.failures.failed(err, this.phase?.(), client.options.reconnectPeriod ?? opts.reconnectPeriodMs);
      else opts.logger.warn({ err }, "twins: broker connection error");
    });
    // A reconnect closed at once (a broker restarted into its open-files limit) tells no error.
    onEachClosedAtOnce(client, () => {
      if (!this.closing && this.reached && this.watch?.state === "lost")
        this.failures.failed(closedAtOnceError(opts.url), this.phase?.(), opts.reconnectPeriodMs);
    });
    this.watch =
      probeTopic === undefined
        ? watchConnection(
            client,
            () => opts.scheduler.now(),
            () => {},
          )
        : this.probed(client, probeTopic);
    this.watch.on("state", (state, was, lastHeardAt) => {
      // What was in flight is given up before anything is told (or reconnected, which re-sends).
      const gaveUp =
        state !== "up" && this.inFlight.giveUpAll(client, state === "silent" ? "silent" : "dropped");
      if (state !== "up") this.echo.clear();
      this.told(state, was, lastHeardAt);
      // Given up at a silence, it must not reach the broker once the path heals: reset, made again.
      if (gaveUp && state === "silent") {
        opts.logger.info(
          "twins: connection reset, so that what it had not had acknowledged is not delivered late",
        );
        resetConnection(client);
      }
    });
    this.wait = wait;
    // How far the first connection's setup got: a timeout after the CONNACK is not the CONNECT's.
    let setup: "connecting" | "accepted" | "subscribed" = "connecting";
    client.on("reconnect", () => {
      if (!this.reached) setup = "connecting";
    });
    // A timeout told while the service itself did not run (stopped, its VM paused) is its stall's.
    const timedOut = () => {
      const stall = opts.stalls?.explaining(opts.scheduler.now());
      const phase =
        setup === "connecting"
          ? this.phase?.()
          : { at: "accepted" as const, subscribed: setup === "subscribed" };
      return connectTimeoutError(opts.url, opts.connectTimeoutMs, phase, stall);
    };
    return new Promise((resolve, reject) => {
      // While waiting, each attempt has the client's own CONNACK timer (the same length).
      const timer = wait ? undefined : after(opts.scheduler, opts.connectTimeoutMs, () => reject(timedOut()));
      const fail = (err: Error) => {
        // What a closing service's ending connection reports is no news (close() ends the wait).
        if (wait && this.closing) return;
        // The client's own CONNACK timer has the same length as ours and may fire first: the same
        // failure, told the same way (it said "cannot connect …: connack timeout").
        const e = failedConnect(err, opts.url, opts.password, timedOut);
        if (wait && e.transient && !this.closing) {
          wait.failed(e);
          return;
        }
        timer?.cancel();
        this.endFirst = undefined;
        client.off("error", fail);
        wait?.stop();
        this.gaveUp = e.message;
        // A service that waited holds its client until closed: no more attempts after this.
        if (wait) void client.endAsync(true);
        reject(e);
      };
      client.on("error", fail);
      // Closed meanwhile (a run's stop): ended now, its timer with it (it held the process 10 s).
      if (!wait) this.endFirst = () => fail(closedBeforeUpError(opts.url));
      // Closed before a CONNACK (a broker out of files): told so at once, not as "no answer (CONNACK)".
      onClosedAtOnce(client, () => fail(closedAtOnceError(opts.url)));
      client.on("connect", () => {
        // Told at the CONNACK, before the lines of subscribing and querying.
        wait?.reached();
        this.restart.connected();
        if (!this.reached) setup = "accepted";
        this.onConnect(() => {
          if (!this.reached) setup = "subscribed";
        }).then(
          () => {
            timer?.cancel();
            this.endFirst = undefined;
            client.off("error", fail);
            if (!this.reached) {
              this.reached = true;
              resolve();
            }
          },
          (err: unknown) => opts.logger.warn({ err }, "twins: subscribing failed"),
        );
      });
    });
  }

  /**
   * Configs first, then reports: the retained configs tell which sources a node has, which the
   * spoofed-origin check of a retained report needs. Then forget requests (twins/retire.ts), the
   * presence (a dead predecessor's cleared first: twins/predecessor.ts) and the other services' watch,
   * then the handler's turn (the query, so registers list live nodes).
   */
  private async onConnect(subscribed: () => void): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.on.subscribing();
    // Told even when a SUBSCRIBE failed (refused, or the connection gone): the replay's end is judged
    // from here as before, not waited for until the next connect.
    await this.subscriptions.subscribe(client).finally(() => this.on.subscribed());
    subscribed();
    await this.handover.beforePresence((t) => client.publishAsync(t, "", { qos: 1, retain: true }), client);
    if (this.opts.presence) {
      const presence = encodePresence(this.opts.startedAt);
      await client.publishAsync(this.presenceTopic, presence, { qos: 1, retain: true });
      await this.others?.subscribe(client);
    }
    await this.on.ready(this.reached);
  }

  /**
   * Publishes `msg` at QoS 1 (retained as the protocol says); false when closing. Refused while the
   * connection is not up; given up when it goes before the PUBACK (twins/broker-away.ts).
   */
  send(msg: Message): Promise<boolean> {
    const e = encode(this.opts.prefix, msg);
    return this.publish(e.topic, e.payload, e.retain, commandName(msg));
  }

  async publish(topic: string, payload: string, retain: boolean, what: string): Promise<boolean> {
    const client = this.client;
    if (!client || this.closing) return false;
    const away = this.away();
    if (away !== undefined) throw refusal(this.opts.url, away, this.opts.scheduler.now(), what);
    if (retain) this.echo.sending(topic, payload);
    await this.inFlight.publish(client, topic, payload, retain, what);
    if (retain) this.echo.acknowledged(topic, payload);
    return true;
  }

  /** Clears the presence and disconnects, waiting for the broker at most CLOSE_GRACE_MS (twins/link-goodbye.ts). */
  async close(): Promise<void> {
    this.closing = true;
    this.stopWatching();
    if (this.client) await goodbye(this.client, this.opts, this.presenceTopic);
  }

  /** Drops the connection at once, as a crash would: the broker publishes the will. */
  async kill(): Promise<void> {
    this.closing = true;
    this.stopWatching();
    await this.client?.endAsync(true);
  }

  /** Closing: no more telling, and what is in flight settles now rather than at its timeout. */
  private stopWatching(): void {
    this.endFirst?.();
    this.stopProbe?.();
    this.watch?.stop();
    this.others?.stop();
    this.echo.clear();
    this.replayMarker.release();
    if (this.client) this.inFlight.giveUpAll(this.client, "closed");
  }
}
