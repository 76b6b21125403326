/**
 * The twins service: the control server of protocol.md §6 on one MQTT connection. It keeps the
 * registry fed from the broker, sends set and pairing commands, re-sends them when a node that missed
 * them registers, stores the desired state, and publishes the convergence report as it changes.
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
import { type ConvergenceReport, computeConvergence } from "./convergence.js";
import { type ResolvedTwinsOptions, resolveTwinsOptions, type TwinsOptions } from "./options.js";
import { pairError, planPairing, planSize } from "./pairing.js";
import { type RegistryEffect, TwinRegistry } from "./registry.js";
import { BoundedSeries } from "./series.js";
import type { BadInputReason, SeriesPoint, Twin, TwinsEvents } from "./types.js";

/** How often, at most, the convergence report is recomputed while the fleet changes. */
const CONVERGENCE_EVERY_MS = 100;

/** Bad caller input (a malformed id, a self-follow): the message says what is wrong. */
export class TwinsCommandError extends Error {
  override readonly name = "TwinsCommandError";
}

export interface Twins extends EventEmitter<TwinsEvents> {
  readonly prefix: Prefix;
  list(): Twin[];
  get(id: string): Twin | undefined;
  /** Sets a node's state with `S1 v c`, c the highest counter seen; resolves to c. */
  set(id: string, on: boolean): Promise<number>;
  /** `follower` follows `source` from now on, across node reboots and twins restarts. */
  pair(follower: string, source: string): Promise<void>;
  unpair(follower: string, source: string): Promise<void>;
  /** Publishes `Q1`: every live node answers with its register and report. */
  query(): Promise<void>;
  convergence(): ConvergenceReport;
  /** The in-sync fraction over time, oldest first (bounded). */
  history(): SeriesPoint[];
  badInput(): { readonly total: number; readonly byReason: Record<BadInputReason, number> };
  /** Bad inputs counted against one node. */
  badInputOf(id: string): number;
  /** Resolves once the stored state is written. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

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
  private readonly sentAt = new Map<NodeId, number>();
  private closed = false;

  constructor(private readonly opts: ResolvedTwinsOptions) {
    super();
    this.prefix = opts.prefix;
    this.registry = new TwinRegistry(opts.prefix);
    this.series = new BoundedSeries(opts.historyCapacity);
  }

  connect(): Promise<void> {
    const { opts } = this;
    const client = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      clean: true,
      protocolVersion: 4,
      keepalive: 15,
      reconnectPeriod: opts.reconnectPeriodMs,
      connectTimeout: opts.connectTimeoutMs,
      // Subscriptions are made in a fixed order on every connect (see onConnect).
      resubscribe: false,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    });
    this.client = client;
    client.on("message", (topic, payload, packet) =>
      this.onMessage(topic, payload, packet.qos === 1 ? 1 : 0),
    );
    client.on("error", (err) => opts.logger.warn({ err }, "twins: broker connection error"));
    client.on("offline", () => opts.logger.warn("twins: broker connection lost, reconnecting"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no CONNACK from ${opts.url} within ${opts.connectTimeoutMs} ms`)),
        opts.connectTimeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to ${opts.url}: ${err.message}`));
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
    const counter = this.registry.maxCounter;
    await this.send({ kind: "state", node, on, counter });
    // Commands are not queued for an offline node: only a sent-to-online set holds back a re-send.
    if (this.registry.get(node)?.presence === "online") this.sentAt.set(node, this.opts.clock());
    this.apply(this.registry.setSent(node, on, counter));
    this.opts.logger.info({ node, on, counter }, "twins: set");
    return counter;
  }

  async pair(follower: string, source: string): Promise<void> {
    const f = nodeId(follower, "follower");
    const s = nodeId(source, "source");
    const desired = this.registry.get(f)?.desired.sources ?? [];
    const err = pairError(f, s, desired);
    if (err) throw new TwinsCommandError(err);
    if (!desired.includes(s)) await this.changeDesired(f, [...desired, s]);
    else await this.reconcile(f, true);
  }

  async unpair(follower: string, source: string): Promise<void> {
    const f = nodeId(follower, "follower");
    const s = nodeId(source, "source");
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
    await this.client?.endAsync();
    await this.flush();
    await this.opts.store.close();
  }

  /**
   * A desire changed: an online node gets the commands now; an offline (or never seen) one gets a
   * retained config with a higher version, which it adopts when it next syncs (protocol §6).
   */
  private async changeDesired(node: NodeId, sources: NodeId[]): Promise<void> {
    const twin = this.registry.get(node);
    if (twin?.presence === "online") {
      const reported = twin.config?.version ?? 0;
      this.apply(this.registry.setDesiredSources(node, sources, reported));
      await this.reconcile(node, true);
      return;
    }
    const version = Math.max(twin?.config?.version ?? 0, twin?.desired.configVersion ?? 0) + 1;
    this.apply(this.registry.setDesiredSources(node, sources, version));
    await this.send({ kind: "config", node, version, sources });
    this.opts.logger.info({ node, version, sources }, "twins: wrote the retained config of an offline node");
  }

  /** Sends what a registered node is missing: pairing commands and a set it never acted on. */
  private async reconcile(node: NodeId, now: boolean): Promise<void> {
    const twin = this.registry.get(node);
    if (twin?.presence !== "online") return;
    const last = this.sentAt.get(node);
    if (!now && last !== undefined && this.opts.clock() - last < this.opts.resendHoldMs) return;
    const plan = planPairing(twin.desired.sources, twin.follows);
    const pending = twin.desired.pendingSet;
    const setMissed = pending !== undefined && (twin.reported?.stamp.counter ?? 0) <= pending.counter;
    if (planSize(plan) === 0 && !setMissed) return;
    this.sentAt.set(node, this.opts.clock());
    if (planSize(plan) > 0) {
      // Each effective command raises the node's config version by one: the version the desire
      // will have reached. Configs up to it are ours, not someone else's change.
      const expected = (twin.config?.version ?? 0) + planSize(plan);
      this.apply(this.registry.setDesiredSources(node, twin.desired.sources, expected));
      for (const source of plan.unfollow) await this.send({ kind: "unsubscribe", node, source });
      for (const source of plan.follow) await this.send({ kind: "subscribe", node, source });
      this.opts.logger.info({ node, ...plan }, "twins: sent pairing commands");
    }
    if (setMissed && pending) {
      const counter = Math.max(this.registry.maxCounter, pending.counter);
      await this.send({ kind: "state", node, on: pending.on, counter });
      this.apply(this.registry.setSent(node, pending.on, counter));
      this.opts.logger.info({ node, on: pending.on, counter }, "twins: re-sent a set the node missed");
    }
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
          this.reconcile(e.node, false).catch((err: unknown) =>
            this.opts.logger.warn({ err, node: e.node }, "twins: re-sending commands failed"),
          );
          break;
        }
        case "updated": {
          const twin = this.registry.get(e.node);
          if (twin) this.emit("twin-updated", twin, e.change);
          if (e.change === "report" || e.change === "config") this.scheduleConvergence();
          break;
        }
        case "online": {
          const twin = this.registry.get(e.node);
          this.opts.logger.info({ node: e.node }, "twins: node online");
          if (twin) {
            this.emit("twin-online", twin);
            this.emit("twin-updated", twin, "presence");
          }
          break;
        }
        case "offline": {
          const twin = this.registry.get(e.node);
          // Whatever was in flight to it is lost (clean session): its next register re-sends.
          this.sentAt.delete(e.node);
          this.opts.logger.info({ node: e.node }, "twins: node offline");
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

  /** Saves run one at a time; changes during a save are written by one more save after it. */
  private persist(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
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
