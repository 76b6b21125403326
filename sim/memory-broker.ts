/**
 * MemoryBroker: an in-memory MQTT 3.1.1 broker on a scheduler, for virtual-time fleets and tests:
 * CONNACK, SUBACK/UNSUBACK, PINGRESP, retained messages, `+` routing through a topic index, session
 * takeover, and — with `sessions` — the broker's side of a session as Aedes keeps it: a client silent
 * for 1.5 × its keepalive is dropped, and a connection that ends without DISCONNECT publishes its
 * will. Every packet it sends arrives `forwardDelayMs` later (the broker's own processing delay, a
 * profile figure), never re-entrantly. Tests can inject publishes, mute ping answers and see what
 * each client sent, with times. This module owns the connections (reading packets, CONNECT and
 * takeover, keepalive, wills); the routing and retained messages are sim/broker-routes.ts, a
 * connection's state and inbox sim/broker-client.ts.
 */
import { generate, type IConnectPacket, type Packet, type Parser, parser } from "mqtt-packet";
import {
  type PublishFields,
  parserIdle,
  publishFields,
  quickDecode,
  quickPuback,
  readPublish,
  readSubscribe,
} from "../node/mqtt-frames.js";
import { type Scheduler, timerSlot } from "../node/scheduler.js";
import type { Wire, WireFactory, WireHandlers } from "../node/wire.js";
import { type Client, newClient, sendBytes } from "./broker-client.js";
import { type PublishTap, Routes } from "./broker-routes.js";
import type { RetainedMessages } from "./retained.js";

export type { PublishTap } from "./broker-routes.js";

export interface Received {
  readonly at: number;
  readonly client: string;
  readonly packet: Packet;
}

export interface MemoryBrokerOptions {
  /** Keep every packet received in `received` (tests). Default true; a fleet run turns it off. */
  readonly record?: boolean;
  /** Drop clients silent past 1.5 × keepalive and publish wills, as Aedes does. Default false. */
  readonly sessions?: boolean;
  /** How long after a packet arrives the broker's answer or forwarded publish leaves it (ms). Default 0. */
  readonly forwardDelayMs?: number;
}

export class MemoryBroker {
  readonly received: Received[] = [];
  readonly retained: RetainedMessages;
  answerPings = true;
  /** Tests can hold CONNACK back, leaving a board blocked in PubSubClient's connect(). */
  answerConnects = true;
  /** Malformed packets received (each ended its connection). */
  badPackets = 0;
  /** False between kill() and restart(): connections are refused. */
  up = true;
  private readonly clients = new Set<Client>();
  /** Connected clients by client id, for session takeover. */
  private readonly byId = new Map<string, Client>();
  private readonly routes: Routes;
  private readonly record: boolean;
  private readonly sessions: boolean;
  private readonly delayMs: number;
  /** Where the PUBLISH being read lies in its bytes (reused per packet). */
  private readonly pub: PublishFields = publishFields();

  constructor(
    private readonly sched: Scheduler,
    o: MemoryBrokerOptions = {},
  ) {
    this.record = o.record ?? true;
    this.sessions = o.sessions ?? false;
    this.delayMs = o.forwardDelayMs ?? 0;
    if (!(this.delayMs >= 0)) throw new RangeError(`forwardDelayMs must be 0 or more, got ${this.delayMs}`);
    this.routes = new Routes(sched, this.delayMs);
    this.retained = this.routes.retained;
  }

  wire(): WireFactory {
    return (h) => this.attach(h);
  }

  tap(fn: PublishTap): void {
    this.routes.tap(fn);
  }

  /** Publishes as the control server, at QoS 1 by default. */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): void {
    const qos = opts.qos ?? 1;
    if (opts.retain) this.retained.set(topic, payload.toString());
    this.routes.route(topic, payload, qos);
  }

  publishes(client?: string): { at: number; topic: string; payload: string }[] {
    return this.received.flatMap((r) =>
      r.packet.cmd === "publish" && (client === undefined || r.client === client)
        ? [{ at: r.at, topic: r.packet.topic, payload: r.packet.payload.toString() }]
        : [],
    );
  }

  /** Dies as under kill -9: every connection closed, nothing retained kept (in memory), no wills. */
  kill(): void {
    this.up = false;
    this.retained.clear();
    for (const c of [...this.clients]) {
      this.drop(c);
      this.sched.at(this.sched.now(), () => c.h.closed());
    }
  }

  restart(): void {
    this.up = true;
  }

  /** Ends the broker when the run is over: every connection forgotten, no callbacks, no wills. */
  shutdown(): void {
    this.up = false;
    for (const c of this.clients) {
      c.open = false;
      c.check?.cancel();
    }
    this.clients.clear();
    this.byId.clear();
    this.routes.clear();
  }

  /** Clients connected now. */
  get connected(): number {
    return this.clients.size;
  }

  private attach(h: WireHandlers): Wire {
    const client = newClient(h, this.sched.now());
    if (!this.up) {
      // Nothing listens on the port: the connection attempt is reset.
      client.open = false;
      this.sched.at(this.sched.now(), () => h.closed(true));
      return { write: () => {}, abandon: () => {}, destroy: () => {} };
    }
    this.clients.add(client);
    // The full parser only for what the quick reader leaves to it (CONNECT, SUBSCRIBE, …).
    let p: Parser | undefined;
    return {
      write: (bytes) => {
        if (!client.open) return;
        // A PUBLISH (nearly every packet) is read in place when no packet object is to be kept.
        if (!this.record && readPublish(bytes, this.pub)) return this.publishIn(client, bytes, this.pub);
        const sub = this.record ? undefined : readSubscribe(bytes);
        if (sub) {
          client.lastIn = this.sched.now();
          return this.routes.subscribe(client, sub.messageId, sub.subscriptions);
        }
        const quick = quickDecode(bytes);
        if (quick) return this.handle(client, quick as Packet);
        if (!p) {
          p = parser({ protocolVersion: 4 });
          p.on("packet", (pk: Packet) => this.handle(client, pk));
          // A malformed packet ends that connection, as Aedes ends it: its will goes out; the broker
          // and every other client go on.
          p.on("error", () => {
            this.badPackets++;
            p = undefined;
            if (!client.open) return;
            this.lose(client);
            this.sched.at(this.sched.now(), () => h.closed());
          });
        }
        // Nothing left half-read: let the parser go (a fresh one reads the next packet the same).
        const q = p;
        if (q.parse(bytes) === 0 && p === q && parserIdle(q)) p = undefined;
      },
      abandon: () => {},
      // The node closed its socket (FIN): without a DISCONNECT first, its will goes out.
      destroy: () => {
        if (client.open) this.lose(client);
      },
    };
  }

  /** Forgets a connection: its subscriptions, its keepalive check. */
  private drop(c: Client): void {
    c.open = false;
    c.check?.cancel();
    this.clients.delete(c);
    if (this.byId.get(c.id) === c) this.byId.delete(c.id);
    this.routes.forget(c);
  }

  /** A connection lost without DISCONNECT: dropped, and its will published. */
  private lose(c: Client): void {
    const will = c.will;
    this.drop(c);
    if (will && this.sessions) {
      if (will.retain) this.routes.retain(will.topic, will.payload);
      this.routes.route(will.topic, will.payload, will.qos);
    }
  }

  private send(c: Client, pk: Packet): void {
    this.sendBytes(c, generate(pk));
  }

  private sendBytes(c: Client, bytes: Buffer): void {
    sendBytes(this.sched, this.delayMs, c, bytes);
  }

  /** Aedes drops a client that sent nothing for 1.5 × its keepalive; checked lazily, not per packet. */
  private watch(c: Client): void {
    if (!this.sessions || c.keepaliveMs <= 0) return;
    c.check ??= timerSlot(this.sched, () => {
      if (!c.open) return;
      if (this.sched.now() >= c.lastIn + c.keepaliveMs * 1.5) {
        this.lose(c);
        c.h.closed();
      } else this.watch(c);
    });
    c.check.set(c.lastIn + c.keepaliveMs * 1.5);
  }

  private handle(c: Client, pk: Packet): void {
    const now = this.sched.now();
    c.lastIn = now;
    if (this.record) {
      this.received.push({ at: now, client: c.id || (pk.cmd === "connect" ? pk.clientId : ""), packet: pk });
    }
    switch (pk.cmd) {
      case "connect":
        this.connect(c, pk);
        break;
      case "subscribe":
        this.routes.subscribe(c, pk.messageId ?? 0, pk.subscriptions);
        break;
      case "unsubscribe":
        this.routes.unsubscribe(c, pk.unsubscriptions);
        this.send(c, { cmd: "unsuback", messageId: pk.messageId ?? 0, granted: [] });
        break;
      case "pingreq":
        if (this.answerPings) this.sendBytes(c, Buffer.from([0xd0, 0x00])); // PINGRESP
        break;
      case "publish":
        if (pk.retain) this.routes.retain(pk.topic, pk.payload);
        // A QoS 1 publish (the twins service's) is acknowledged and routed at QoS 1, as Aedes does.
        this.routes.route(pk.topic, pk.payload, pk.qos === 1 ? 1 : 0);
        if (pk.qos === 1) this.sendBytes(c, quickPuback(pk.messageId ?? 0));
        break;
      case "disconnect":
        c.will = undefined;
        this.drop(c);
        break;
      default:
        break;
    }
  }

  /** `handle` for a PUBLISH read in place (`f`: where its parts lie in `bytes`). */
  private publishIn(c: Client, bytes: Buffer, f: PublishFields): void {
    c.lastIn = this.sched.now();
    const { topic, payloadAt, qos, messageId } = f;
    if (((bytes[0] as number) & 1) === 1) this.routes.retain(topic, bytes, payloadAt);
    this.routes.route(topic, undefined, qos, bytes, payloadAt);
    if (qos === 1) this.sendBytes(c, quickPuback(messageId ?? 0));
  }

  private connect(c: Client, pk: IConnectPacket): void {
    const o = this.byId.get(pk.clientId);
    if (o !== undefined && o !== c) {
      // Takeover: the old connection is closed by the broker.
      this.drop(o);
      this.sched.at(this.sched.now(), () => o.h.closed());
    }
    if (this.byId.get(c.id) === c) this.byId.delete(c.id);
    c.id = pk.clientId;
    this.byId.set(c.id, c);
    c.keepaliveMs = (pk.keepalive ?? 0) * 1000;
    c.will = pk.will
      ? {
          topic: pk.will.topic,
          payload: Buffer.from(pk.will.payload),
          qos: pk.will.qos === 1 ? 1 : 0,
          retain: pk.will.retain === true,
        }
      : undefined;
    this.watch(c);
    if (this.answerConnects) this.send(c, { cmd: "connack", returnCode: 0, sessionPresent: false });
  }
}
