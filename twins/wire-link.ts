/**
 * The twins service's MQTT connection over an in-process byte transport (a `Wire`, node/wire.ts):
 * how the service joins a virtual-time run's in-memory broker. It speaks the part of MQTT 3.1.1 the
 * service uses, with mqtt-packet: CONNECT with the presence's will, the subscriptions in their fixed
 * order on every connect, QoS 1 publishes held until their PUBACK (and sent again after a
 * reconnect), DISCONNECT. Every delay — the connect timeout, the reconnect period, the close's grace —
 * is on the service's scheduler and nothing waits on a socket, so a virtual run stays the same for
 * the same seed. No keepalive: an in-process transport cannot go silent without saying so.
 */
import { generate, type Packet, type Parser, parser } from "mqtt-packet";
import { parserIdle, quickDecode, quickPuback, quickPublish } from "../node/mqtt-frames.js";
import type { Wire, WireFactory } from "../node/wire.js";
import { allNodesTopic, encode, type Message } from "../protocol/index.js";
import type { TwinsLink } from "./broker-link.js";
import type { BrokerWait } from "./broker-wait.js";
import { after, type Timer } from "./clock.js";
import { connectError, connectTimeoutError } from "./connection.js";
import type { BrokerLinkHandlers } from "./link-handlers.js";
import type { ResolvedTwinsOptions } from "./options.js";
import { PresenceHandover } from "./predecessor.js";
import { CLOSE_GRACE_MS, controlTopic, encodePresence, SERVICE_TOPIC_KINDS } from "./presence.js";

interface Waiter {
  /** The packet, to send again after a reconnect (publishes only). */
  readonly resend?: Packet;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class WireLink implements TwinsLink {
  /** A virtual-time run's own controller, alone on its in-process broker: no other is watched for. */
  readonly otherServices = [];
  private wire: Wire | undefined;
  private connected = false;
  private closing = false;
  /** The connection is down after having been up: told once when it goes and when it is back. */
  private down = false;
  private nextId = 1;
  /** SUBACK and PUBACK waiters by packet id. */
  private readonly waiting = new Map<number, Waiter>();
  /** Publishes asked for while no connection was up, sent on the next connect. */
  private readonly queued: Packet[] = [];
  private reconnect: Timer | undefined;
  private firstReady: (() => void) | undefined;
  private firstFail: ((err: Error) => void) | undefined;

  private readonly handover: PresenceHandover;

  constructor(
    private readonly opts: ResolvedTwinsOptions,
    private readonly wireFactory: WireFactory,
    private readonly on: BrokerLinkHandlers,
  ) {
    this.handover = new PresenceHandover(opts);
  }

  private get presenceTopic(): string {
    return controlTopic(this.opts.prefix, this.opts.clientId);
  }

  /**
   * Resolves on the first connect once subscribed; rejects when refused or after the connect timeout.
   * With `wait` (a service started again while its broker is away: a twins restart during a broker
   * restart), a broker not there is tried again every reconnect period instead, as over a URL.
   */
  connect(wait?: BrokerWait): Promise<void> {
    const { opts } = this;
    return new Promise((resolve, reject) => {
      const timer = wait
        ? undefined
        : after(opts.scheduler, opts.connectTimeoutMs, () => {
            this.firstReady = undefined;
            this.closing = true;
            this.drop();
            reject(connectTimeoutError(opts.url, opts.connectTimeoutMs));
          });
      this.firstReady = () => {
        timer?.cancel();
        wait?.reached();
        resolve();
      };
      this.firstFail = (err) => {
        const e = connectError(err, opts.url);
        if (wait && e.transient && !this.closing) {
          wait.failed(e);
          const dead = this.wire;
          this.wire = undefined;
          dead?.destroy();
          this.reconnect = after(opts.scheduler, opts.reconnectPeriodMs, () => this.open());
          return;
        }
        timer?.cancel();
        wait?.stop();
        this.closing = true;
        this.drop();
        reject(e);
      };
      this.open();
    });
  }

  private open(): void {
    this.reconnect = undefined;
    if (this.closing) return;
    // Publishes and PUBACKs are read without a parser object; the full parser (made when first
    // needed, let go when idle) reads the rest, and anything that does not come as one whole packet.
    let p: Parser | undefined;
    const wire = this.wireFactory({
      packet: (bytes) => {
        if (this.wire !== wire) return;
        const quick = p === undefined ? quickDecode(bytes) : undefined;
        if (quick) return this.onPacket(quick as Packet);
        if (!p) {
          p = parser({ protocolVersion: 4 });
          p.on("packet", (pk: Packet) => this.onPacket(pk));
        }
        const q = p;
        if (q.parse(bytes) === 0 && parserIdle(q) && p === q) p = undefined;
      },
      closed: () => {
        if (this.wire !== wire) return;
        p = undefined;
        this.lost();
      },
    });
    this.wire = wire;
    this.write({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: this.opts.clientId,
      clean: true,
      keepalive: 0,
      ...(this.opts.presence
        ? { will: { topic: this.presenceTopic, payload: Buffer.alloc(0), qos: 1, retain: true } }
        : {}),
    });
  }

  private write(pk: Packet): void {
    if (this.wire === undefined) return;
    // A first PUBLISH from the quick writer (the same bytes; generate() also logs through `debug`).
    if (pk.cmd === "publish" && !pk.dup && (pk.qos === 0 || (pk.qos === 1 && pk.messageId !== undefined))) {
      this.wire.write(
        quickPublish(pk.topic, pk.payload, pk.retain === true, pk.qos === 1 ? pk.messageId : undefined),
      );
    } else this.wire.write(generate(pk));
  }

  private onPacket(pk: Packet): void {
    switch (pk.cmd) {
      case "connack":
        if (pk.returnCode !== 0) {
          const err = Object.assign(new Error(`connection refused: ${pk.returnCode}`), {
            code: pk.returnCode ?? 0,
          });
          if (this.firstFail) this.firstFail(err);
          else this.opts.logger.warn({ err }, "twins: broker connection error");
          return;
        }
        this.connected = true;
        this.firstFail = undefined;
        this.afterConnect().catch((err: unknown) =>
          this.opts.logger.warn({ err }, "twins: subscribing failed"),
        );
        break;
      case "suback":
      case "puback": {
        const w = this.waiting.get(pk.messageId ?? 0);
        this.waiting.delete(pk.messageId ?? 0);
        w?.resolve();
        break;
      }
      case "publish":
        if (pk.qos === 1) this.wire?.write(quickPuback(pk.messageId ?? 0));
        this.on.message(pk.topic, pk.payload as Buffer, pk.qos === 1 ? 1 : 0, pk.retain === true);
        break;
      default:
        break;
    }
  }

  /** As BrokerLink: configs, status, reports, registers; then the presence; then the handler's turn. */
  private async afterConnect(): Promise<void> {
    // What was in flight when the connection went, then what was asked for while it was down.
    for (const [, w] of this.waiting) if (w.resend) this.write({ ...w.resend, dup: true } as Packet);
    for (const pk of this.queued.splice(0)) this.write(pk);
    this.on.subscribing();
    try {
      for (const kind of SERVICE_TOPIC_KINDS) {
        await this.request({
          cmd: "subscribe",
          messageId: this.id(),
          subscriptions: [{ topic: allNodesTopic(this.opts.prefix, kind), qos: 1 }],
        });
      }
    } finally {
      this.on.subscribed(); // as BrokerLink: told even when a SUBSCRIBE failed
    }
    await this.handover.beforePresence((topic) => this.put(topic, "", true));
    if (this.opts.presence) await this.put(this.presenceTopic, encodePresence(this.opts.startedAt), true);
    await this.on.ready(this.down);
    if (this.down) {
      this.down = false;
      this.opts.logger.info("twins: broker connection back");
      this.on.connection(true);
    }
    const first = this.firstReady;
    this.firstReady = undefined;
    first?.();
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = id >= 65_535 ? 1 : id + 1;
    return id;
  }

  /** Sends a packet with an id and resolves on its answer; a publish is kept to send again. */
  private request(pk: Packet & { messageId: number }, keep = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.set(pk.messageId, { ...(keep ? { resend: pk } : {}), resolve, reject });
      if (this.connected) this.write(pk);
      else this.queued.push(pk);
    });
  }

  private put(topic: string, payload: string | Buffer, retain: boolean): Promise<void> {
    return this.request(
      { cmd: "publish", topic, payload, qos: 1, retain, dup: false, messageId: this.id() },
      true,
    );
  }

  /** The connection ended: waiters for a SUBACK fail, publishes wait for the next connect. */
  private lost(): void {
    this.connected = false;
    this.wire = undefined;
    for (const [id, w] of this.waiting) {
      if (w.resend) continue;
      this.waiting.delete(id);
      w.reject(new Error("the broker connection was lost"));
    }
    if (this.closing) return;
    if (this.firstFail) {
      this.firstFail(Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" }) as Error);
      return;
    }
    if (!this.down) {
      this.down = true;
      this.opts.logger.warn("twins: broker connection lost, reconnecting");
      this.on.connection(false, undefined, "lost");
    }
    this.reconnect = after(this.opts.scheduler, this.opts.reconnectPeriodMs, () => this.open());
  }

  async send(msg: Message): Promise<boolean> {
    if (this.closing) return false;
    const e = encode(this.opts.prefix, msg);
    await this.put(e.topic, e.payload, e.retain);
    return true;
  }

  async publish(topic: string, payload: string, retain: boolean): Promise<boolean> {
    if (this.closing) return false;
    await this.put(topic, payload, retain);
    return true;
  }

  /** The presence cleared and DISCONNECT, waiting for the broker at most CLOSE_GRACE_MS. */
  async close(): Promise<void> {
    if (this.closing) return;
    const clear =
      this.connected && this.opts.presence ? this.put(this.presenceTopic, "", true) : Promise.resolve();
    this.closing = true;
    let timer: Timer | undefined;
    const late = new Promise<void>((resolve) => {
      timer = after(this.opts.scheduler, CLOSE_GRACE_MS, resolve);
    });
    await Promise.race([clear.catch(() => {}), late]);
    timer?.cancel();
    if (this.connected) this.write({ cmd: "disconnect" });
    this.drop();
  }

  /** Drops the connection at once, as a crash would: the broker publishes the will. */
  async kill(): Promise<void> {
    this.closing = true;
    this.drop();
  }

  private drop(): void {
    this.reconnect?.cancel();
    this.reconnect = undefined;
    const wire = this.wire;
    this.wire = undefined;
    this.connected = false;
    wire?.destroy();
    this.waiting.clear();
  }
}
