/**
 * MemoryBroker: an in-memory MQTT 3.1.1 broker for fake-time runs and tests: CONNACK, SUBACK/UNSUBACK, PINGRESP, retained
 * messages and `+` routing, with replies delivered through the scheduler (never re-entrantly).
 * Tests can inject publishes, mute ping answers and see what each client sent, with times.
 */
import { generate, type Packet, parser } from "mqtt-packet";
import type { Scheduler } from "../node/scheduler.js";
import type { Wire, WireFactory, WireHandlers } from "../node/wire.js";

interface Client {
  id: string;
  subs: Map<string, 0 | 1>;
  h: WireHandlers;
  open: boolean;
}

export interface Received {
  readonly at: number;
  readonly client: string;
  readonly packet: Packet;
}

export class MemoryBroker {
  readonly received: Received[] = [];
  readonly retained = new Map<string, string>();
  answerPings = true;
  /** Tests can hold CONNACK back, leaving a board blocked in PubSubClient's connect(). */
  answerConnects = true;
  /** False between kill() and restart(): connections are refused. */
  up = true;
  private clients = new Set<Client>();
  private nextId = 1;

  constructor(private readonly sched: Scheduler) {}

  wire(): WireFactory {
    return (h) => this.attach(h);
  }

  /** Publishes as the control server, at QoS 1 by default. */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): void {
    const qos = opts.qos ?? 1;
    if (opts.retain) this.retained.set(topic, payload.toString());
    this.route(topic, payload, qos, false);
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
    for (const c of this.clients) {
      c.open = false;
      this.sched.at(this.sched.now(), () => c.h.closed());
    }
    this.clients.clear();
  }

  restart(): void {
    this.up = true;
  }

  private attach(h: WireHandlers): Wire {
    const client: Client = { id: "", subs: new Map(), h, open: true };
    if (!this.up) {
      // Nothing listens on the port: the connection attempt is reset.
      client.open = false;
      this.sched.at(this.sched.now(), () => h.closed(true));
      return { write: () => {}, abandon: () => {}, destroy: () => {} };
    }
    this.clients.add(client);
    const p = parser({ protocolVersion: 4 });
    p.on("packet", (pk: Packet) => this.handle(client, pk));
    return {
      write: (bytes) => {
        if (client.open) p.parse(bytes);
      },
      abandon: () => {},
      destroy: () => {
        client.open = false;
        this.clients.delete(client);
      },
    };
  }

  private send(c: Client, pk: Packet): void {
    const bytes = generate(pk);
    this.sched.at(this.sched.now(), () => {
      if (c.open) c.h.packet(bytes);
    });
  }

  private handle(c: Client, pk: Packet): void {
    this.received.push({
      at: this.sched.now(),
      client: c.id || (pk.cmd === "connect" ? pk.clientId : ""),
      packet: pk,
    });
    switch (pk.cmd) {
      case "connect":
        for (const o of this.clients) {
          if (o !== c && o.id === pk.clientId) {
            o.open = false;
            this.clients.delete(o);
          }
        }
        c.id = pk.clientId;
        if (this.answerConnects) this.send(c, { cmd: "connack", returnCode: 0, sessionPresent: false });
        break;
      case "subscribe":
        this.send(c, {
          cmd: "suback",
          messageId: pk.messageId ?? 0,
          granted: pk.subscriptions.map((s) => s.qos),
        });
        for (const s of pk.subscriptions) {
          const qos = s.qos === 1 ? 1 : 0;
          c.subs.set(s.topic, qos);
          for (const [topic, payload] of this.retained) {
            if (matches(s.topic, topic)) this.deliver(c, topic, payload, qos, true);
          }
        }
        break;
      case "unsubscribe":
        for (const t of pk.unsubscriptions) c.subs.delete(t);
        this.send(c, { cmd: "unsuback", messageId: pk.messageId ?? 0, granted: [] });
        break;
      case "pingreq":
        if (this.answerPings) this.send(c, { cmd: "pingresp" });
        break;
      case "publish":
        if (pk.retain) this.retained.set(pk.topic, pk.payload.toString());
        this.route(pk.topic, pk.payload, 0, false);
        break;
      default:
        break;
    }
  }

  private route(topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean): void {
    for (const c of this.clients) {
      for (const [filter, subQos] of c.subs) {
        if (matches(filter, topic)) {
          this.deliver(c, topic, payload, Math.min(qos, subQos) as 0 | 1, retain);
          break;
        }
      }
    }
  }

  private deliver(c: Client, topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean): void {
    const messageId = qos === 1 ? this.nextId++ : undefined;
    this.send(c, { cmd: "publish", topic, payload, qos, retain, dup: false, messageId });
  }
}

function matches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (f.length !== t.length) return false;
  return f.every((x, i) => x === "+" || x === t[i]);
}
