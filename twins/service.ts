/**
 * The twins service: the control server of protocol.md §6 on one MQTT connection. It keeps the
 * registry fed from the broker, sends set and pairing commands, re-sends them when a node that missed
 * them registers, stores the desired state, holds its presence on the broker, and publishes the
 * convergence report as it changes. A passive service only watches: it builds the same view and
 * events but publishes nothing and stores nothing.
 */
import { EventEmitter } from "node:events";
import mqtt, { type MqttClient } from "mqtt";
import {
  allNodesTopic,
  encode,
  type Message,
  NodeId,
  type Prefix,
  ProtocolError,
} from "../protocol/index.js";
import { type Twins, TwinsCommandError } from "./api.js";
import { connectError, connectTimeoutError, loginOptions } from "./connection.js";
import { type ConvergenceReport, computeConvergence } from "./convergence.js";
import { type ResolvedTwinsOptions, resolveTwinsOptions, type TwinsOptions } from "./options.js";
import { pairError } from "./pairing.js";
import { controlTopic, encodePresence } from "./presence.js";
import { Reconciler } from "./reconcile.js";
import { type RegistryEffect, TwinRegistry } from "./registry.js";
import { BoundedSeries } from "./series.js";
import type { SeriesPoint, Twin, TwinsEvents } from "./types.js";

/** How often, at most, the convergence report is recomputed while the fleet changes. */
const CONVERGENCE_EVERY_MS = 100;

export { type Twins, TwinsCommandError } from "./api.js";

export async function startTwins(options: TwinsOptions): Promise<Twins> {
  const opts = resolveTwinsOptions(options);
  const restored = await opts.store.load();
  const service = new TwinsService(opts);
  service.registry.restore(restored);
  try {
    await service.connect();
  } catch (e) {
    await service.close();
    throw e;
  }
  return service;
}

class TwinsService extends EventEmitter<TwinsEvents> implements Twins {
  readonly registry: TwinRegistry;
  readonly prefix: Prefix;
  private client: MqttClient | undefined;
  private readonly series: BoundedSeries;
  private lastSignature = "";
  private convergenceScheduled = false;
  private convergenceTimer: NodeJS.Timeout | undefined;
  private convergenceAt = Number.NEGATIVE_INFINITY;
  private saving: Promise<void> = Promise.resolve();
  private saveQueued = false;
  private readonly reconciler: Reconciler;
  private readonly since = Date.now();
  private closed = false;
  private killed = false;

  constructor(private readonly opts: ResolvedTwinsOptions) {
    super();
    this.prefix = opts.prefix;
    this.registry = new TwinRegistry(opts.prefix);
    this.series = new BoundedSeries(opts.historyCapacity);
    this.reconciler = new Reconciler({
      registry: this.registry,
      send: (msg) => this.send(msg),
      apply: (effects) => this.apply(effects),
      clock: opts.clock,
      holdMs: opts.resendHoldMs,
      onError: (err, node) => opts.logger.warn({ err, node }, "twins: re-sending commands failed"),
    });
  }

  get clientId(): string {
    return this.opts.clientId;
  }

  get passive(): boolean {
    return this.opts.passive;
  }

  connect(): Promise<void> {
    const { opts } = this;
    const presence = controlTopic(this.prefix, opts.clientId);
    const client = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      clean: true,
      protocolVersion: 4,
      keepalive: 15,
      reconnectPeriod: opts.reconnectPeriodMs,
      connectTimeout: opts.connectTimeoutMs,
      // Subscriptions are made in a fixed order on every connect (see onConnect).
      resubscribe: false,
      ...loginOptions({ username: opts.username, password: opts.password, tls: opts.tls }),
      // An empty retained will clears the presence when the service dies without a goodbye.
      ...(opts.presence ? { will: { topic: presence, payload: Buffer.alloc(0), qos: 1, retain: true } } : {}),
    });
    this.client = client;
    client.on("message", (topic, payload, packet) =>
      this.onMessage(topic, payload, packet.qos === 1 ? 1 : 0),
    );
    client.on("error", (err) => opts.logger.warn({ err }, "twins: broker connection error"));
    client.on("offline", () => opts.logger.warn("twins: broker connection lost, reconnecting"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(connectTimeoutError(opts.url, opts.connectTimeoutMs)),
        opts.connectTimeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(connectError(err, opts.url, opts.password));
      };
      client.once("error", fail);
      client.on("connect", () => {
        this.onConnect().then(
          () => {
            clearTimeout(timer);
            client.off("error", fail);
            resolve();
          },
          (err: unknown) => opts.logger.warn({ err }, "twins: subscribing failed"),
        );
      });
    });
  }

  /**
   * Configs first, then reports: the retained configs tell which sources a node has, which the
   * spoofed-origin check of a retained report needs. Then the query, so registers list live nodes.
   */
  private async onConnect(): Promise<void> {
    const client = this.client;
    if (!client) return;
    for (const kind of ["config", "status", "report", "register"] as const) {
      await client.subscribeAsync(allNodesTopic(this.prefix, kind), { qos: 1 });
    }
    if (this.opts.passive) {
      this.opts.logger.info({ url: this.opts.url, prefix: this.prefix }, "twins: connected (passive)");
      return;
    }
    if (this.opts.presence) {
      const topic = controlTopic(this.prefix, this.opts.clientId);
      await client.publishAsync(topic, encodePresence(this.since), { qos: 1, retain: true });
    }
    await this.query();
    this.opts.logger.info({ url: this.opts.url, prefix: this.prefix }, "twins: connected and queried");
  }

  list(): Twin[] {
    return this.registry.list();
  }

  get(id: string): Twin | undefined {
    return this.registry.get(nodeId(id, "node"));
  }

  async set(id: string, on: boolean): Promise<number> {
    const node = nodeId(id, "node");
    this.active("set");
    const counter = this.registry.maxCounter;
    const msg: Message = { kind: "state", node, on, counter };
    await this.send(msg);
    // Commands are not queued for an offline node: only a sent-to-online set holds back a re-send.
    if (this.registry.get(node)?.presence === "online") this.reconciler.markSent(node, msg);
    this.apply(this.registry.setSent(node, on, counter));
    this.opts.logger.info({ node, on, counter }, "twins: set");
    return counter;
  }

  async pair(follower: string, source: string): Promise<void> {
    const f = nodeId(follower, "follower");
    const s = nodeId(source, "source");
    this.active("pair");
    const desired = this.registry.get(f)?.desired.sources ?? [];
    const err = pairError(f, s, desired);
    if (err) throw new TwinsCommandError(err);
    if (!desired.includes(s)) await this.changeDesired(f, [...desired, s]);
    else await this.reconciler.reconcile(f, true);
  }

  async unpair(follower: string, source: string): Promise<void> {
    const f = nodeId(follower, "follower");
    const s = nodeId(source, "source");
    this.active("unpair");
    const twin = this.registry.get(f);
    const desired = twin?.desired.sources ?? [];
    if (!desired.includes(s) && !(twin?.follows ?? []).includes(s)) {
      throw new TwinsCommandError(`${f} does not follow ${s}`);
    }
    await this.changeDesired(
      f,
      desired.filter((x) => x !== s),
    );
  }

  async query(): Promise<void> {
    this.active("query");
    await this.send({ kind: "query" });
  }

  convergence(): ConvergenceReport {
    return computeConvergence(this.registry.convergenceInput());
  }

  history(): SeriesPoint[] {
    return this.series.toArray();
  }

  badInput() {
    return this.registry.badInput();
  }

  badInputOf(id: string): number {
    return this.registry.badInputOf(nodeId(id, "node"));
  }

  async flush(): Promise<void> {
    // A save may queue another; wait until none is pending.
    while (this.saveQueued) await this.saving;
    await this.saving;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.convergenceTimer);
    this.reconciler.stop();
    const client = this.client;
    if (client?.connected && this.opts.presence) {
      // A clean DISCONNECT discards the will: clear the presence first.
      await client
        .publishAsync(controlTopic(this.prefix, this.opts.clientId), "", { qos: 1, retain: true })
        .catch((err: unknown) => this.opts.logger.warn({ err }, "twins: clearing the presence failed"));
    }
    await client?.endAsync();
    await this.flush();
    await this.opts.store.close();
  }

  async kill(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.killed = true;
    clearTimeout(this.convergenceTimer);
    this.reconciler.stop();
    await this.client?.endAsync(true);
  }

  /**
   * A desire changed: an online node gets the commands now; an offline (or never seen) one gets a
   * retained config with a higher version, which it adopts when it next syncs, and the commands when
   * it registers again (protocol §6). Either way the pairing is pending until the node confirms it.
   */
  private async changeDesired(node: NodeId, sources: NodeId[]): Promise<void> {
    const twin = this.registry.get(node);
    const version = this.registry.nextWriteVersion(node);
    if (twin?.presence === "online") {
      this.apply(this.registry.setDesiredSources(node, sources, version - 1));
      await this.reconciler.reconcile(node, true);
      return;
    }
    this.apply(this.registry.setDesiredSources(node, sources, version));
    await this.send({ kind: "config", node, version, sources });
    this.opts.logger.info({ node, version, sources }, "twins: wrote the retained config of an offline node");
  }

  /** Throws for a command on a passive service. */
  private active(what: string): void {
    if (this.opts.passive) throw new TwinsCommandError(`${what}: a passive twins service sends no commands`);
  }

  private onMessage(topic: string, payload: Buffer, qos: 0 | 1): void {
    let effects: RegistryEffect[];
    try {
      effects = this.registry.receive(topic, payload, qos, this.opts.clock());
    } catch (err) {
      // A bug of ours, not bad input (the registry reports that as effects): log it, keep serving.
      this.opts.logger.error({ err, topic }, "twins: failed to handle a message");
      return;
    }
    this.apply(effects);
  }

  private apply(effects: readonly RegistryEffect[]): void {
    let persist = false;
    for (const e of effects) {
      switch (e.type) {
        case "registered": {
          const twin = this.registry.get(e.node);
          if (twin) {
            this.emit("twin-registered", twin, e.first);
            this.emit("twin-updated", twin, "register");
          }
          this.reconcileLater(e.node);
          break;
        }
        case "reconcile":
          this.reconcileLater(e.node);
          break;
        case "updated": {
          const twin = this.registry.get(e.node);
          if (twin) this.emit("twin-updated", twin, e.change);
          if (e.change === "report" || e.change === "config") this.scheduleConvergence();
          break;
        }
        case "online": {
          const twin = this.registry.get(e.node);
          if (twin) {
            this.emit("twin-online", twin);
            this.emit("twin-updated", twin, "presence");
          }
          break;
        }
        case "offline": {
          const twin = this.registry.get(e.node);
          // Whatever was in flight to it is lost (clean session): its next register re-sends.
          this.reconciler.forget(e.node);
          if (twin) {
            this.emit("twin-offline", twin);
            this.emit("twin-updated", twin, "presence");
          }
          break;
        }
        case "bad-input":
          this.opts.logger.warn(
            { node: e.input.node, reason: e.input.reason, topic: e.input.topic },
            `twins: bad input: ${e.input.detail}`,
          );
          this.emit("bad-input", e.input);
          break;
        case "desired-changed":
          persist = true;
          break;
      }
    }
    if (persist) this.persist();
  }

  /** Coalesces a burst of changes (a sync, a retained flood) into one computation. */
  private scheduleConvergence(): void {
    if (this.convergenceScheduled) return;
    this.convergenceScheduled = true;
    // At once after a quiet spell, then at most every CONVERGENCE_EVERY_MS: the computation walks
    // the whole fleet, and a busy fleet changes on every turn of the event loop.
    const wait = Math.max(0, this.convergenceAt + CONVERGENCE_EVERY_MS - performance.now());
    this.convergenceTimer = setTimeout(() => {
      this.convergenceScheduled = false;
      if (this.closed) return;
      this.convergenceAt = performance.now();
      const report = this.convergence();
      const signature = report.followers.map((f) => `${f.id}:${f.status}`).join(",");
      if (signature === this.lastSignature) return;
      this.lastSignature = signature;
      this.series.push({
        t: this.opts.clock(),
        fraction: report.fraction,
        inSync: report.inSync,
        known: report.known,
      });
      this.emit("convergence", report);
    }, wait);
  }

  private reconcileLater(node: NodeId): void {
    if (this.opts.passive) return;
    this.reconciler
      .reconcile(node, false)
      .catch((err: unknown) => this.opts.logger.warn({ err, node }, "twins: re-sending commands failed"));
  }

  /** Saves run one at a time; changes during a save are written by one more save after it. */
  private persist(): void {
    // A passive service keeps no desire of its own; a killed one writes nothing more.
    if (this.opts.passive || this.closed) return;
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      if (this.killed) return;
      try {
        await this.opts.store.save(this.registry.snapshot());
      } catch (err) {
        this.opts.logger.error({ err }, "twins: saving the desired state failed");
      }
    });
  }

  private async send(msg: Message): Promise<void> {
    const client = this.client;
    if (!client || this.closed) throw new TwinsCommandError("the twins service is closed");
    const e = encode(this.prefix, msg);
    await client.publishAsync(e.topic, e.payload, { qos: 1, retain: e.retain });
  }
}

function nodeId(s: string, what: string): NodeId {
  try {
    return NodeId(s);
  } catch (e) {
    if (e instanceof ProtocolError) throw new TwinsCommandError(`${what}: ${e.message}`);
    throw e;
  }
}
