/**
 * The in-memory broker's routing: who subscribed to which filter, the retained messages, and each
 * publish sent on to its subscribers (once per client, whatever filters match; one shared frame for
 * every QoS 0 delivery) and told to the taps.
 */
import { quickPublish, quickSuback, type Subscription } from "../node/mqtt-frames.js";
import type { Scheduler } from "../node/scheduler.js";
import { type Client, Fanout, sendBytes } from "./broker-client.js";
import { type Payload, payloadOf, qos0Frame } from "./forward-frame.js";
import { RetainedMessages } from "./retained.js";
import { matches, matchesTopic, TopicIndex } from "./topic-match.js";

/** Told of every publish the broker routes (a client's, a will, the broker's own): the twins' view. */
export type PublishTap = (topic: string, payload: Buffer, at: number) => void;

export class Routes {
  readonly retained = new RetainedMessages();
  /** The clients subscribed to each filter. */
  private readonly subscribers = new TopicIndex<Client>();
  private readonly taps: PublishTap[] = [];
  private routes = 0;
  /** A publish's deliveries, sent behind one timer. */
  private readonly fanout: Fanout;

  constructor(
    private readonly sched: Scheduler,
    private readonly delayMs: number,
  ) {
    this.fanout = new Fanout(sched, delayMs);
  }

  tap(fn: PublishTap): void {
    this.taps.push(fn);
  }

  /** A SUBSCRIBE: its SUBACK, then each filter indexed and the retained messages it matches sent. */
  subscribe(c: Client, messageId: number, subs: readonly Subscription[]): void {
    sendBytes(
      this.sched,
      this.delayMs,
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
        if (payload !== undefined) this.sendTo(c, this.frame(c, s.topic, payload, qos, true));
      } else {
        for (const [topic, payload] of this.retained) {
          if (matches(s.topic, topic)) this.sendTo(c, this.frame(c, topic, payload, qos, true));
        }
      }
    }
  }

  unsubscribe(c: Client, filters: readonly string[]): void {
    for (const t of filters) {
      if (c.subs.delete(t)) this.subscribers.remove(t, c);
    }
  }

  /** Takes every subscription of `c` out of the index (its connection is gone). */
  forget(c: Client): void {
    for (const f of c.subs.keys()) this.subscribers.remove(f, c);
  }

  /** Forgets every subscription (the broker has shut down). */
  clear(): void {
    this.subscribers.clear();
  }

  /**
   * Keeps `payload` (a Buffer's bytes from `from` on) as the topic's retained message; an empty one
   * clears it (MQTT 3.1.1 §3.3.1.3).
   */
  retain(topic: string, payload: string | Buffer, from = 0): void {
    if (payload.length === from) this.retained.delete(topic);
    else if (typeof payload === "string") this.retained.set(topic, payload);
    else this.retained.keep(topic, payload, from);
  }

  /**
   * Routes a publish to the taps and the subscribers. Its payload is `payload`, or — when that is
   * undefined — the bytes of `frame` (the PUBLISH as it came in) from `payloadAt` on.
   */
  route(
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
    // QoS 0 deliveries carry no message id: the same bytes serve every subscriber. A subscription's
    // QoS only matters to a QoS 1 publish (a QoS 0 one goes at QoS 0 whatever it is), so only then
    // is it looked up.
    let shared: Buffer | undefined;
    const { exact, wild } = this.subscribers;
    const exactSet = exact.get(topic);
    if (exactSet) {
      for (const c of exactSet)
        shared = this.to(c, qos === 1 ? (c.subs.get(topic) ?? 0) : 0, route, topic, p, qos, shared);
    }
    for (const w of wild) {
      if (!matchesTopic(w.levels, topic)) continue;
      for (const c of w.set)
        shared = this.to(c, qos === 1 ? (c.subs.get(w.filter) ?? 0) : 0, route, topic, p, qos, shared);
    }
    this.fanout.send();
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
    if (qos === 1 && subQos === 1) this.fanout.add(c, this.frame(c, topic, payloadOf(p), 1, false));
    else {
      shared ??= qos0Frame(topic, p);
      this.fanout.add(c, shared);
    }
    return shared;
  }

  private sendTo(c: Client, bytes: Buffer): void {
    sendBytes(this.sched, this.delayMs, c, bytes);
  }

  /** The PUBLISH of `payload` to `topic` for `c` (a QoS 1 one takes its next packet id). */
  private frame(c: Client, topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean): Buffer {
    // Packet ids are per session and 16-bit: 1 … 65535, then round again.
    let messageId: number | undefined;
    if (qos === 1) {
      messageId = c.nextId;
      c.nextId = c.nextId >= 65_535 ? 1 : c.nextId + 1;
    }
    return quickPublish(topic, payload, retain, messageId);
  }
}
