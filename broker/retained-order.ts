/**
 * A client's messages published after its SUBSCRIBE reach it after the retained messages that
 * SUBSCRIBE is answered with, as Mosquitto sends them. aedes streams a subscription's retained
 * messages after the SUBACK, one per turn of the event loop, beside the live path: a message
 * published meanwhile overtook them. A client that publishes a marker to itself after subscribing
 * (the twins service's replay marker, twins/replay-marker.ts) got it back with most of a fleet's
 * replay still to come, so the marker could not say the replay was over. Now the client's later
 * messages are held while its retained answers are under way, and sent, in their order, once the
 * last of them is written. The answers are counted by the retained index (broker/retained-index.ts),
 * which both the memory and the LevelDB stores answer with; a Redis store streams them on its own
 * and keeps aedes's order.
 */
import type { Aedes, Client } from "aedes";

/** What a delivery needs of a packet: a retained answer is the one with no broker id. */
interface Delivered {
  readonly brokerId?: string | null;
  readonly qos?: number;
}
type Deliver = (packet: Delivered, cb: (err?: unknown) => void) => void;
/** The client's two delivery paths (own properties set by aedes's Client; a subscription takes one of them). */
interface Deliveries {
  deliver0: Deliver;
  deliverQoS: Deliver;
}

/** One client's deliveries, its later messages held behind its retained answers under way. */
export class RetainedOrder {
  /** Retained answers not written yet. */
  private answering = 0;
  /** Later messages held, in their order. */
  private readonly held: (() => void)[] = [];

  constructor(client: Deliveries) {
    const deliver0 = client.deliver0;
    const deliverQoS = client.deliverQoS;
    client.deliver0 = (packet, cb) => this.deliver(deliver0, packet, cb);
    // At QoS 0 aedes's deliverQoS calls `deliver0`, the one above: judged there.
    client.deliverQoS = (packet, cb) =>
      (packet.qos ?? 0) === 0 ? deliverQoS(packet, cb) : this.deliver(deliverQoS, packet, cb);
  }

  /** A SUBSCRIBE of the client is answered with `count` retained messages. */
  answered(count: number): void {
    this.answering += count;
  }

  private deliver(send: Deliver, packet: Delivered, cb: (err?: unknown) => void): void {
    if (packet.brokerId === null) {
      send(packet, (err) => {
        cb(err);
        if (--this.answering <= 0) this.release();
      });
    } else if (this.answering > 0) {
      // Done for the publisher's side (aedes's emitter waits on it); sent once the answers are.
      this.held.push(() => send(packet, () => {}));
      cb();
    } else send(packet, cb);
  }

  private release(): void {
    this.answering = 0;
    for (const send of this.held.splice(0)) send();
  }
}

/**
 * Orders every client of `aedes` so: `clientOf` is called with each new client before it reads a
 * packet; `answered` goes to the retained index, told each answer's size. aedes emits `subscribe`
 * and asks its store for the retained answer in one synchronous step, so the answer asked for
 * right after a `subscribe` is that client's.
 */
export function orderRetainedAnswers(aedes: Aedes): {
  readonly clientOf: (client: Client) => void;
  readonly answered: (count: number) => void;
} {
  const orders = new WeakMap<Client, RetainedOrder>();
  let next: RetainedOrder | undefined;
  aedes.on("subscribe", (_subs, client) => {
    next = orders.get(client);
    queueMicrotask(() => {
      next = undefined;
    });
  });
  return {
    clientOf: (client) => orders.set(client, new RetainedOrder(client as unknown as Deliveries)),
    answered: (count) => {
      next?.answered(count);
      next = undefined;
    },
  };
}
