/**
 * MemoryBroker: an in-memory MQTT 3.1.1 broker on a scheduler, for virtual-time fleets and tests:
 * CONNACK, SUBACK/UNSUBACK, PINGRESP, retained messages, `+` routing through a topic index, session
 * takeover, and — with `sessions` — the broker's side of a session as Aedes keeps it: a client silent
 * for 1.5 × its keepalive is dropped, and a connection that ends without DISCONNECT publishes its
 * will. Every packet it sends arrives `forwardDelayMs` later (the broker's own processing delay, a
 * profile figure), never re-entrantly. Tests can inject publishes, mute ping answers and see what
 * each client sent, with times.
 */
import { generate, type IConnectPacket, type Packet, type Parser, parser } from "mqtt-packet";
import {
  type PublishFields,
  parserIdle,
  publishFields,
  quickDecode,
  quickPuback,
  quickPublish,
  quickSuback,
  readPublish,
  readSubscribe,
  type Subscription,
} from "../node/mqtt-frames.js";
import { postAt, type Scheduler, type TimerSlot, timerSlot } from "../node/scheduler.js";
import type { Wire, WireFactory, WireHandlers } from "../node/wire.js";
import { type Payload, payloadOf, qos0Frame } from "./forward-frame.js";
import { RetainedMessages } from "./retained.js";
import { matches, matchesTopic, TopicIndex } from "./topic-match.js";

interface Will {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

interface Client {
  id: string;
  readonly subs: Map<string, 0 | 1>;
  readonly h: WireHandlers;
  open: boolean;
  will: Will | undefined;
  keepaliveMs: number;
  lastIn: number;
  /** Its keepalive check (one slot per client, re-armed each 1.5 × keepalive). */
  check: TimerSlot | undefined;
  /** The route call that last delivered to it (one delivery per publish, whatever filters match). */
  routed: number;
  /** The packet id of its next QoS 1 delivery. */
  nextId: number;
  /**
   * Packets on their way to it, oldest at `inboxHead`, the next at `inboxTail` (the room is reused):
   * each leaves `forwardDelayMs` after it was sent, so their timers fire in order and each takes the
   * oldest. One callback (`deliverNext`) serves them all: a delivery costs a timer, not a closure.
   */
  readonly inbox: Buffer[];
  inboxHead: number;
  inboxTail: number;
  readonly deliverNext: () => void;
}
/** What an inbox slot holds once its packet has left (the packet itself is not kept). */
const SENT = Buffer.alloc(0);

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

/** Told of every publish the broker routes (a client's, a will, the broker's own): the twins' view. */
export type PublishTap = (topic: string, payload: Buffer, at: number) => void;

export class MemoryBroker {
  readonly received: Received[] = [];
  readonly retained = new RetainedMessages();
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
  /** The clients subscribed to each filter. */
  private readonly subscribers = new TopicIndex<Client>();
  private readonly taps: PublishTap[] = [];
  private routes = 0;
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
  }

  wire(): WireFactory {
    return (h) => this.attach(h);
  }

  tap(fn: PublishTap): void {
    this.taps.push(fn);
  }

  /** Publishes as the control server, at QoS 1 by default. */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): void {
    const qos = opts.qos ?? 1;
    if (opts.retain) this.retained.set(topic, payload.toString());
    this.route(topic, payload, qos);
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
    this.subscribers.clear();
  }

  /** Clients connected now. */
  get connected(): number {
    return this.clients.size;
  }

  private attach(h: WireHandlers): Wire {
    const client: Client = {
      id: "",
      subs: new Map(),
      h,
      open: true,
      will: undefined,
      keepaliveMs: 0,
      lastIn: this.sched.now(),
      check: undefined,
      routed: -1,
      nextId: 1,
      inbox: [],
      inboxHead: 0,
      inboxTail: 0,
      deliverNext: () => {
        const bytes = client.inbox[client.inboxHead] as Buffer;
        client.inbox[client.inboxHead++] = SENT;
        if (client.inboxHead === client.inboxTail) client.inboxHead = client.inboxTail = 0;
        if (client.open) h.packet(bytes);
      },
    };
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
          return this.subscribe(client, sub.messageId, sub.subscriptions);
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
    for (const f of c.subs.keys()) this.subscribers.remove(f, c);
  }

  /** A connection lost without DISCONNECT: dropped, and its will published. */
  private lose(c: Client): void {
    const will = c.will;
    this.drop(c);
    if (will && this.sessions) {
      if (will.retain) this.retain(will.topic, will.payload);
      this.route(will.topic, will.payload, will.qos);
    }
  }

  /**
   * Keeps `payload` (a Buffer's bytes from `from` on) as the topic's retained message; an empty one
   * clears it (MQTT 3.1.1 §3.3.1.3).
   */
  private retain(topic: string, payload: string | Buffer, from = 0): void {
    if (payload.length === from) this.retained.delete(topic);
    else if (typeof payload === "string") this.retained.set(topic, payload);
    else this.retained.keep(topic, payload, from);
  }

  private send(c: Client, pk: Packet): void {
    this.sendBytes(c, generate(pk));
  }

  private sendBytes(c: Client, bytes: Buffer): void {
    c.inbox[c.inboxTail++] = bytes;
    postAt(this.sched, this.sched.now() + this.delayMs, c.deliverNext);
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
        this.subscribe(c, pk.messageId ?? 0, pk.subscriptions);
        break;
      case "unsubscribe":
        for (const t of pk.unsubscriptions) {
          if (c.subs.delete(t)) this.subscribers.remove(t, c);
        }
        this.send(c, { cmd: "unsuback", messageId: pk.messageId ?? 0, granted: [] });
        break;
      case "pingreq":
        if (this.answerPings) this.sendBytes(c, Buffer.from([0xd0, 0x00])); // PINGRESP
        break;
      case "publish":
        if (pk.retain) this.retain(pk.topic, pk.payload);
        // A QoS 1 publish (the twins service's) is acknowledged and routed at QoS 1, as Aedes does.
        this.route(pk.topic, pk.payload, pk.qos === 1 ? 1 : 0);
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

  /** A SUBSCRIBE: its SUBACK, then each filter indexed and the retained messages it matches sent. */
  private subscribe(c: Client, messageId: number, subs: readonly Subscription[]): void {
    this.sendBytes(
      c,
      quickSuback(
        messageId,
        subs.map((s) => s.qos),
      ),
    );
    for (const s of subs) {
      const qos = s.qos === 1 ? 1 : 0;
      if (!c.subs.has(s.topic)) this.subscribers.add(s.topic, c);
      c.subs.set(s.topic, qos);
      if (!s.topic.includes("+")) {
        const payload = this.retained.get(s.topic);
        if (payload !== undefined) this.deliver(c, s.topic, payload, qos, true);
      } else {
        for (const [topic, payload] of this.retained) {
          if (matches(s.topic, topic)) this.deliver(c, topic, payload, qos, true);
        }
      }
    }
  }

  /** `handle` for a PUBLISH read in place (`f`: where its parts lie in `bytes`). */
  private publishIn(c: Client, bytes: Buffer, f: PublishFields): void {
    c.lastIn = this.sched.now();
    const { topic, payloadAt, qos, messageId } = f;
    if (((bytes[0] as number) & 1) === 1) this.retain(topic, bytes, payloadAt);
    this.route(topic, undefined, qos, bytes, payloadAt);
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

  /**
   * Routes a publish to the taps and the subscribers. Its payload is `payload`, or — when that is
   * undefined — the bytes of `frame` (the PUBLISH as it came in) from `payloadAt` on.
   */
  private route(
    topic: string,
    payload: string | Buffer | undefined,
    qos: 0 | 1,
    frame?: Buffer,
    payloadAt = 0,
  ): void {
    const route = this.routes++;
    const p: Payload = { given: payload, frame, payloadAt };
    if (this.taps.length > 0) {
      const given = p.given;
      const bytes = typeof given === "string" ? Buffer.from(given) : (payloadOf(p) as Buffer);
      for (const t of this.taps) t(topic, bytes, this.sched.now());
    }
    // QoS 0 deliveries carry no message id: the same bytes serve every subscriber.
    let shared: Buffer | undefined;
    const { exact, wild } = this.subscribers;
    const exactSet = exact.get(topic);
    if (exactSet) {
      for (const c of exactSet) shared = this.to(c, c.subs.get(topic) ?? 0, route, topic, p, qos, shared);
    }
    for (const w of wild) {
      if (!matchesTopic(w.levels, topic)) continue;
      for (const c of w.set) shared = this.to(c, c.subs.get(w.filter) ?? 0, route, topic, p, qos, shared);
    }
  }

  /** One client's delivery of route `route` (once, whatever filters match); returns the QoS 0 bytes. */
  private to(
    c: Client,
    subQos: 0 | 1,
    route: number,
    topic: string,
    p: Payload,
    qos: 0 | 1,
    shared: Buffer | undefined,
  ): Buffer | undefined {
    if (c.routed === route) return shared;
    c.routed = route;
    if (qos === 1 && subQos === 1) this.deliver(c, topic, payloadOf(p), 1, false);
    else {
      shared ??= qos0Frame(topic, p);
      this.sendBytes(c, shared);
    }
    return shared;
  }

  private deliver(c: Client, topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean): void {
    // Packet ids are per session and 16-bit: 1 … 65535, then round again.
    let messageId: number | undefined;
    if (qos === 1) {
      messageId = c.nextId;
      c.nextId = c.nextId >= 65_535 ? 1 : c.nextId + 1;
    }
    this.sendBytes(c, quickPublish(topic, payload, retain, messageId));
  }
}
