/**
 * The demo fleet: a small deterministic model of a paired fleet, good enough to watch and drive the
 * console without a broker. Nodes sit in follow rings, presses arrive as a seeded Poisson process,
 * and each hop's delivery is retransmitted on loss the way the W5100 does (fixed 200 ms retry, 8
 * retries, then the connection drops and the node reconnects and resyncs). Raising the loss makes
 * updates late and the fleet fall out of sync; lowering it lets the fleet converge again.
 * Not the simulator (sim/ is): only a stand-in with the same shape of behaviour.
 */
import seedrandom from "seedrandom";
import {
  compareStamps,
  encode,
  formatStamp,
  NodeId,
  type NodeKind,
  Prefix,
  type Stamp,
} from "../../protocol/index.js";
import { LatencyWindow } from "../latency.js";
import { EventQueue } from "./queue.js";

export interface DemoOptions {
  readonly nodes: number;
  readonly groupSize: number;
  readonly pressesPerNodePerMin: number;
  readonly seed: string;
  /** Every n-th node is marked as a real board (0: none). */
  readonly realEvery: number;
}

export const DEMO_DEFAULTS: DemoOptions = {
  nodes: 400,
  groupSize: 8,
  pressesPerNodePerMin: 6,
  seed: "twinfleet",
  realEvery: 40,
};

const RETRY_MS = 200;
const RETRIES = 8;
const MESSAGES_KEPT = 5;
/** The demo has no broker; the prefix only completes the encoded report. */
const DEMO_PREFIX = Prefix("tf");

type Event =
  | {
      readonly type: "deliver";
      readonly at: number;
      readonly from: number;
      readonly to: number;
      readonly attempt: number;
    }
  | { readonly type: "online"; readonly at: number; readonly node: number; readonly epoch: number };

export interface DemoNode {
  readonly id: NodeId;
  readonly kind: NodeKind;
  on: boolean;
  stamp: Stamp;
  clock: number;
  online: boolean;
  cablePulled: boolean;
  /** Bumped on every disconnect, so a reconnect scheduled before a newer one is ignored. */
  epoch: number;
  follows: number[];
  followers: number[];
  retransmissions: number;
  timeouts: number;
  reconnects: number;
  /** Messages handled per second, smoothed: drives the modeled CPU. */
  rate: number;
  rateAt: number;
  messages: string[];
}

export type DemoLog = (level: "info" | "warn", text: string) => void;

export class DemoFleet {
  readonly nodes: DemoNode[] = [];
  readonly byId = new Map<NodeId, number>();
  lossPct = 0;
  now = 0;
  /** Recent sync latencies, press to follower. */
  readonly latency = new LatencyWindow();
  private readonly pressedAt = new Map<string, number>();
  private readonly queue = new EventQueue<Event>();
  private readonly rand: () => number;
  private readonly pressRand: () => number;
  private timeoutsThisSecond = 0;
  private lastTimeoutLog = 0;

  constructor(
    readonly options: DemoOptions,
    private readonly log: DemoLog = () => {},
  ) {
    this.rand = seedrandom.alea(`${options.seed}\u0000links`);
    this.pressRand = seedrandom.alea(`${options.seed}\u0000presses`);
    for (let i = 0; i < options.nodes; i++) {
      const id = NodeId(`n-${String(i).padStart(4, "0")}`);
      const kind: NodeKind = options.realEvery > 0 && i % options.realEvery === 1 ? "real" : "sim";
      this.byId.set(id, i);
      this.nodes.push({
        ...{ id, kind, on: false, stamp: { counter: 0, origin: id }, clock: 0, online: true },
        ...{ cablePulled: false, epoch: 0, follows: [], followers: [], retransmissions: 0, timeouts: 0 },
        ...{ reconnects: 0, rate: 0, rateAt: 0, messages: [] },
      });
    }
    const g = Math.max(2, options.groupSize);
    for (let i = 0; i < options.nodes; i++) {
      const start = i - (i % g);
      const size = Math.min(g, options.nodes - start);
      if (size < 2) continue;
      this.follow(i, start + ((i - start + size - 1) % size));
    }
  }

  /** Advances model time to `t` in 50 ms steps: presses, deliveries and reconnects due by then. */
  advance(t: number): boolean {
    let changed = false;
    while (this.now + 50 <= t) {
      this.now += 50;
      changed = this.step() || changed;
    }
    return changed;
  }

  inSync(i: number): boolean | undefined {
    const n = this.nodes[i];
    if (!n || n.follows.length === 0) return undefined;
    return n.follows.every((s) => {
      const src = this.nodes[s];
      return src === undefined || compareStamps(n.stamp, src.stamp) >= 0;
    });
  }

  fraction(): { inSync: number; known: number } {
    let inSync = 0;
    let known = 0;
    for (let i = 0; i < this.nodes.length; i++) {
      const s = this.inSync(i);
      if (s === undefined) continue;
      known++;
      if (s) inSync++;
    }
    return { inSync, known };
  }

  press(i: number): void {
    const n = this.nodes[i];
    if (!n) return;
    n.clock += 1;
    this.event(i, !n.on, { counter: n.clock, origin: n.id });
  }

  set(i: number, on: boolean): void {
    const n = this.nodes[i];
    if (!n) return;
    const highest = this.nodes.reduce((m, x) => Math.max(m, x.clock), 0);
    n.clock = highest + 1;
    this.event(i, on, { counter: n.clock, origin: n.id });
  }

  follow(follower: number, source: number): string | undefined {
    const f = this.nodes[follower];
    const s = this.nodes[source];
    if (!f || !s) return "no such node";
    if (follower === source) return "a node cannot follow itself";
    if (f.follows.includes(source)) return `${f.id} already follows ${s.id}`;
    if (f.follows.length >= 8) return `${f.id} already follows 8 nodes`;
    f.follows.push(source);
    s.followers.push(follower);
    this.send(source, follower, 1);
    return undefined;
  }

  unfollow(follower: number, source: number): string | undefined {
    const f = this.nodes[follower];
    const s = this.nodes[source];
    if (!f || !s || !f.follows.includes(source)) return `${f?.id ?? "?"} does not follow ${s?.id ?? "?"}`;
    f.follows = f.follows.filter((x) => x !== source);
    s.followers = s.followers.filter((x) => x !== follower);
    return undefined;
  }

  /** Takes the node off the network for `downMs`, then it reconnects and resyncs. */
  disconnect(i: number, downMs: number | undefined): void {
    const n = this.nodes[i];
    if (!n) return;
    n.online = false;
    n.epoch++;
    if (downMs !== undefined)
      this.queue.push({ type: "online", at: this.now + downMs, node: i, epoch: n.epoch });
  }

  plug(i: number, pulled: boolean): void {
    const n = this.nodes[i];
    if (!n) return;
    n.cablePulled = pulled;
    if (pulled) this.disconnect(i, undefined);
    else this.queue.push({ type: "online", at: this.now + 800 + this.rand() * 700, node: i, epoch: n.epoch });
  }

  private step(): boolean {
    let changed = false;
    // Poisson presses: the expected count this step, drawn one by one.
    const expected = (this.nodes.length * this.options.pressesPerNodePerMin * 50) / 60_000;
    let budget = expected;
    while (this.pressRand() < budget) {
      budget -= 1;
      const i = Math.floor(this.pressRand() * this.nodes.length);
      const n = this.nodes[i];
      if (n?.online) {
        this.press(i);
        changed = true;
      }
    }
    for (let e = this.queue.popUntil(this.now); e; e = this.queue.popUntil(this.now)) {
      changed = true;
      if (e.type === "online") this.reconnect(e.node, e.epoch);
      else this.deliver(e.from, e.to, e.attempt);
    }
    if (this.timeoutsThisSecond > 0 && this.now - this.lastTimeoutLog >= 1000) {
      this.log("warn", `${this.timeoutsThisSecond} link timeouts (loss ${this.lossPct}%): nodes reconnect`);
      this.timeoutsThisSecond = 0;
      this.lastTimeoutLog = this.now;
    }
    return changed;
  }

  private event(i: number, on: boolean, stamp: Stamp): void {
    const n = this.nodes[i];
    if (!n) return;
    n.on = on;
    n.stamp = stamp;
    this.pressedAt.set(formatStamp(stamp), this.now);
    if (this.pressedAt.size > 20_000) {
      const oldest = this.pressedAt.keys().next().value;
      if (oldest !== undefined) this.pressedAt.delete(oldest);
    }
    this.remember(n, `tx ${reportPayload(n.id, on, stamp)}`);
    if (n.online) for (const f of n.followers) this.send(i, f, 1);
  }

  private send(from: number, to: number, attempt: number): void {
    const hop = 15 + this.rand() * 25;
    this.queue.push({ type: "deliver", at: this.now + hop + (attempt - 1) * RETRY_MS, from, to, attempt });
  }

  private deliver(from: number, to: number, attempt: number): void {
    const s = this.nodes[from];
    const f = this.nodes[to];
    if (!s || !f || !s.online || !f.online || !f.follows.includes(from)) return;
    // Two segments (node → broker → node), each losing a packet with the configured probability.
    const p = this.lossPct / 100;
    if (this.rand() < 1 - (1 - p) * (1 - p)) {
      f.retransmissions++;
      if (attempt <= RETRIES) this.send(from, to, attempt + 1);
      else {
        f.timeouts++;
        this.timeoutsThisSecond++;
        this.disconnect(to, 1000 + this.rand() * 2000);
      }
      return;
    }
    this.handled(f);
    this.remember(f, `rx ${reportPayload(s.id, s.on, s.stamp)} via ${s.id}`);
    if (compareStamps(s.stamp, f.stamp) <= 0) return;
    f.on = s.on;
    f.stamp = s.stamp;
    f.clock = Math.max(f.clock, s.stamp.counter);
    const at = this.pressedAt.get(formatStamp(s.stamp));
    if (at !== undefined) this.latency.record(this.now - at);
    this.remember(f, `tx ${reportPayload(f.id, f.on, f.stamp)}`);
    for (const x of f.followers) this.send(to, x, 1);
  }

  private reconnect(i: number, epoch: number): void {
    const n = this.nodes[i];
    if (!n || n.epoch !== epoch || n.cablePulled || n.online) return;
    n.online = true;
    n.reconnects++;
    this.remember(n, "connected, syncing");
    // The resync: every source's retained report, and the node's own report to its followers.
    for (const s of n.follows) this.send(s, i, 1);
    for (const f of n.followers) this.send(i, f, 1);
  }

  private handled(n: DemoNode): void {
    const dt = Math.max(1, this.now - n.rateAt);
    n.rate = n.rate * Math.exp(-dt / 5000) + 1000 / 5000;
    n.rateAt = this.now;
  }

  private remember(n: DemoNode, text: string): void {
    n.messages.push(`${(this.now / 1000).toFixed(1)}s ${text}`);
    if (n.messages.length > MESSAGES_KEPT) n.messages.shift();
  }
}

/** A report's payload as the node would publish it, e.g. `R1 1 7 n-0003`. */
function reportPayload(node: NodeId, on: boolean, stamp: Stamp): string {
  return encode(DEMO_PREFIX, { kind: "report", node, on, stamp }).payload;
}
