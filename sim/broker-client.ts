/**
 * A connection as the in-memory broker (sim/memory-broker.ts) keeps it: its client id, its
 * subscriptions, keepalive and will, and its inbox — the packets on their way to it, each arriving
 * the broker's forward delay after it was sent, in the order they were sent — and the fan-out that
 * sends one publish to many of them behind a single timer.
 */
import { postAt, type Scheduler, type TimerSlot } from "../node/scheduler.js";
import type { WireHandlers } from "../node/wire.js";

export interface Will {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export interface Client {
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

/** A new connection (`h`: its side of the wire), accepted at `now`. */
export function newClient(h: WireHandlers, now: number): Client {
  const client: Client = {
    id: "",
    subs: new Map(),
    h,
    open: true,
    will: undefined,
    keepaliveMs: 0,
    lastIn: now,
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
  return client;
}

/** Sends `bytes` to `c`: they arrive `delayMs` from now, after what is on its way to it already. */
export function sendBytes(sched: Scheduler, delayMs: number, c: Client, bytes: Buffer): void {
  c.inbox[c.inboxTail++] = bytes;
  postAt(sched, sched.now() + delayMs, c.deliverNext);
}

/**
 * One routed publish's deliveries, sent to several clients at one instant: each client's inbox takes
 * its packet at once, and a single timer `delayMs` later hands them over client by client, in the
 * order they were added. That is the order separate timers would give: they would be due at the same
 * instant with tie-breaking numbers taken one after the other (nothing else takes one while a publish
 * is routed), so nothing could run between them. A fleet's report goes to about three clients (its
 * follower, its own node's echo, the twins): one timer instead of three. The batches are reused.
 */
export class Fanout {
  /** The batch being filled (between `add` and `send`). */
  private open: Batch | undefined;
  private readonly spare: Batch[] = [];

  constructor(
    private readonly sched: Scheduler,
    private readonly delayMs: number,
  ) {}

  /** Queues `bytes` for `c` in the batch being filled. */
  add(c: Client, bytes: Buffer): void {
    c.inbox[c.inboxTail++] = bytes;
    let b = this.open;
    if (b === undefined) {
      b = this.spare.pop() ?? new Batch(this.spare);
      this.open = b;
    }
    b.clients[b.count++] = c;
  }

  /** Sets the timer for what was added since the last call (nothing when nothing was). */
  send(): void {
    const b = this.open;
    if (b === undefined) return;
    this.open = undefined;
    const at = this.sched.now() + this.delayMs;
    if (b.count === 1) {
      // One client: its own callback, as `sendBytes` posts it; the batch goes back at once.
      const c = b.clients[0] as Client;
      b.count = 0;
      this.spare.push(b);
      postAt(this.sched, at, c.deliverNext);
      return;
    }
    postAt(this.sched, at, b.run);
  }
}

/** Clients with a packet each in their inbox, handed over by one timer; back to `spare` once run. */
class Batch {
  /** `clients[0]` up to `clients[count]` (the array keeps its room between uses). */
  readonly clients: (Client | undefined)[] = [];
  count = 0;
  readonly run: () => void;

  constructor(spare: Batch[]) {
    this.run = () => {
      const n = this.count;
      for (let i = 0; i < n; i++) {
        const c = this.clients[i] as Client;
        this.clients[i] = undefined;
        c.deliverNext();
      }
      this.count = 0;
      spare.push(this);
    };
  }
}
