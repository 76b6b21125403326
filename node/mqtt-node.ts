/**
 * CoreClient: a NodeCore on a real MQTT.js connection, with no device model — the `ideal` node.
 * Tests, tools and the mixed-fleet checks use it as a protocol-exact node that costs nothing. Its
 * core's time and its tick are on an injected scheduler (MQTT.js keeps its own keepalive timers).
 */

import { EventEmitter } from "node:events";
import mqtt, { type MqttClient } from "mqtt";
import { assertNever, encode } from "../protocol/index.js";
import { type CoreOutput, NodeCore, type NodeCoreConfig, type NodeCoreState } from "./core.js";
import { every, RealScheduler, type Scheduler, type Timer } from "./scheduler.js";

export interface CoreClientOptions {
  readonly url: string;
  readonly core: NodeCoreConfig;
  readonly username?: string;
  readonly password?: string;
  /** How often time is fed to the core so the sync grace period can end (ms). */
  readonly tickMs?: number;
  readonly reconnectPeriodMs?: number;
  /** MQTT keepalive in seconds; PubSubClient's 15 by default. */
  readonly keepaliveS?: number;
  /** The core's clock and the tick's timer. Default a `RealScheduler` of its own. */
  readonly scheduler?: Scheduler;
}

export interface CoreClientEvents {
  output: [CoreOutput];
  led: [boolean];
  drop: [Extract<CoreOutput, { type: "drop" }>];
  synced: [];
}

export class CoreClient extends EventEmitter<CoreClientEvents> {
  readonly core: NodeCore;
  private client: MqttClient | undefined;
  private timer: Timer | undefined;
  private readonly sched: Scheduler;

  constructor(private readonly opts: CoreClientOptions) {
    super();
    this.core = new NodeCore(opts.core);
    this.sched = opts.scheduler ?? new RealScheduler();
  }

  get state(): NodeCoreState {
    return this.core.state;
  }

  get id(): string {
    return this.opts.core.id;
  }

  /** Powers the node on and connects; resolves on the first CONNACK. */
  start(): Promise<void> {
    const { core } = this.opts;
    this.apply(this.core.handle({ type: "boot" }, this.sched.now()));
    const will = encode(core.prefix, { kind: "status", node: core.id, online: false });
    const client = mqtt.connect(this.opts.url, {
      clientId: `${core.prefix}-${core.id}`,
      clean: true,
      keepalive: this.opts.keepaliveS ?? 15,
      protocolVersion: 4,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      username: this.opts.username,
      password: this.opts.password,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    });
    this.client = client;
    client.on("connect", () => this.feed({ type: "connected" }));
    client.on("close", () => this.feed({ type: "disconnected" }));
    client.on("message", (topic, payload, packet) => {
      this.feed({ type: "message", topic, payload: payload.toString("utf8"), qos: packet.qos === 1 ? 1 : 0 });
    });
    this.timer = every(this.sched, this.opts.tickMs ?? 100, () => this.feed({ type: "tick" }));
    return new Promise((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
  }

  press(): void {
    this.feed({ type: "press" });
  }

  /**
   * Stops cleanly (protocol §5.6): publishes the node's `T1 0` status (retained), then DISCONNECT, after
   * which the broker discards the will. Without a connection there is nothing to tell: the socket is
   * simply closed.
   */
  async stop(): Promise<void> {
    this.timer?.cancel();
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      const { prefix, id } = this.opts.core;
      const offline = encode(prefix, { kind: "status", node: id, online: false });
      client.publish(offline.topic, offline.payload, { qos: 0, retain: true });
      await client.endAsync(false);
    } else {
      await client.endAsync(true);
    }
  }

  /** Loses power: the socket closes without DISCONNECT, so the broker publishes the will. */
  async powerOff(): Promise<void> {
    this.timer?.cancel();
    await this.client?.endAsync(true);
  }

  private feed(input: Parameters<NodeCore["handle"]>[0]): void {
    const before = this.core.state.phase;
    this.apply(this.core.handle(input, this.sched.now()));
    const after: string = this.core.state.phase;
    if (before !== "synced" && after === "synced") this.emit("synced");
  }

  private apply(outputs: CoreOutput[]): void {
    for (const o of outputs) {
      this.emit("output", o);
      switch (o.type) {
        case "subscribe":
          this.client?.subscribe(o.topic, { qos: o.qos });
          break;
        case "unsubscribe":
          this.client?.unsubscribe(o.topic);
          break;
        case "publish":
          this.client?.publish(o.topic, o.payload, { qos: 0, retain: o.retain });
          break;
        case "led":
          this.emit("led", o.on);
          break;
        case "drop":
          this.emit("drop", o);
          break;
        default:
          assertNever(o);
      }
    }
  }
}
