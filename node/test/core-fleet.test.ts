// Many NodeCores on an in-memory broker: chains propagate, cycles converge without endless
// republishing, concurrent presses agree, and duplicates, reordering, reconnects and reboots never
// make a node regress. Random schedules come from fast-check with a fixed seed.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assertNever,
  compareStamps,
  decode,
  formatStamp,
  NodeId,
  Prefix,
  type Stamp,
} from "../../protocol/index.js";
import { type CoreInput, type CoreOutput, NodeCore } from "../core.js";

const prefix = Prefix("tf");
const GRACE = 1500;

interface Delivery {
  topic: string;
  payload: string;
}

/** A broker in miniature: exact-topic subscriptions, retained messages, one FIFO queue per node. */
class MiniFleet {
  readonly cores = new Map<string, NodeCore>();
  readonly queues = new Map<string, Delivery[]>();
  private readonly subs = new Map<string, Set<string>>();
  private readonly retained = new Map<string, string>();
  readonly publishes = new Map<string, number>();
  /** Highest stamp each node originated itself (presses and set commands). */
  readonly originated = new Map<string, Stamp>();
  now = 0;

  constructor(ids: readonly string[]) {
    for (const id of ids) {
      this.cores.set(
        id,
        new NodeCore({
          id: NodeId(id),
          prefix,
          kind: "sim",
          profile: "ideal",
          firmware: "t",
          syncGraceMs: GRACE,
        }),
      );
      this.queues.set(id, []);
      this.subs.set(id, new Set());
      this.publishes.set(id, 0);
    }
  }

  input(id: string, input: CoreInput): CoreOutput[] {
    if (input.type === "disconnected" || input.type === "boot") this.subs.get(id)?.clear();
    if (input.type === "disconnected" || input.type === "boot") this.queues.set(id, []);
    const out = this.core(id).handle(input, this.now);
    for (const o of out) this.apply(id, o);
    return out;
  }

  /** Delivers the oldest queued message of one node, optionally twice (a duplicate). */
  deliver(id: string, duplicate = false): boolean {
    const q = this.queues.get(id) ?? [];
    const m = q.shift();
    if (!m) return false;
    this.input(id, { type: "message", ...m });
    if (duplicate) this.input(id, { type: "message", ...m });
    return true;
  }

  /** Runs until nothing is queued and every node is synced; returns false if it never settles. */
  settle(maxSteps = 200_000): boolean {
    for (let step = 0; step < maxSteps; step++) {
      const busy = [...this.queues.entries()].find(([, q]) => q.length > 0);
      if (busy) {
        this.deliver(busy[0]);
        continue;
      }
      const syncing = [...this.cores.entries()].filter(([, c]) => c.state.phase !== "synced");
      if (syncing.length === 0) return true;
      this.now += GRACE;
      for (const [id, c] of syncing) {
        if (c.state.phase === "offline") this.input(id, { type: "connected" });
        else this.input(id, { type: "tick" });
      }
    }
    return false;
  }

  core(id: string): NodeCore {
    const c = this.cores.get(id);
    if (!c) throw new Error(`no node ${id}`);
    return c;
  }

  private apply(id: string, o: CoreOutput): void {
    switch (o.type) {
      case "subscribe": {
        this.subs.get(id)?.add(o.topic);
        const r = this.retained.get(o.topic);
        if (r !== undefined) this.queues.get(id)?.push({ topic: o.topic, payload: r });
        break;
      }
      case "unsubscribe":
        this.subs.get(id)?.delete(o.topic);
        break;
      case "publish": {
        this.publishes.set(id, (this.publishes.get(id) ?? 0) + 1);
        if (o.retain) this.retained.set(o.topic, o.payload);
        const msg = decode(prefix, o.topic, o.payload);
        if (msg.kind === "report" && msg.stamp.origin === id) {
          const prev = this.originated.get(id);
          if (!prev || compareStamps(msg.stamp, prev) > 0) this.originated.set(id, msg.stamp);
        }
        for (const [sub, topics] of this.subs) {
          if (topics.has(o.topic)) this.queues.get(sub)?.push({ topic: o.topic, payload: o.payload });
        }
        break;
      }
      case "led":
      case "drop":
        break;
      default:
        assertNever(o);
    }
  }
}

function boot(ids: string[], follows: Record<string, string[]>): MiniFleet {
  const f = new MiniFleet(ids);
  for (const id of ids) {
    f.input(id, { type: "boot" });
    f.input(id, { type: "connected" });
  }
  expect(f.settle()).toBe(true);
  for (const [follower, sources] of Object.entries(follows)) {
    for (const s of sources)
      f.input(follower, { type: "message", topic: `tf/subscribe/${follower}`, payload: `F1 ${s}` });
  }
  expect(f.settle()).toBe(true);
  return f;
}

function stampOf(f: MiniFleet, id: string): Stamp {
  return f.core(id).state.stamp;
}

/** What the pairing implies: each node holds the newest of its own events and its sources' stamps. */
function expectFixpoint(f: MiniFleet, follows: Record<string, string[]>): void {
  const valueByStamp = new Map<string, boolean>();
  for (const [id, c] of f.cores) {
    const candidates: Stamp[] = [f.originated.get(id) ?? { counter: 0, origin: NodeId(id) }];
    for (const s of follows[id] ?? []) candidates.push(stampOf(f, s));
    const newest = candidates.reduce((a, b) => (compareStamps(a, b) >= 0 ? a : b));
    expect(`${id}: ${formatStamp(c.state.stamp)}`).toBe(`${id}: ${formatStamp(newest)}`);
    expect(c.state.led).toBe(c.state.on);
    const key = formatStamp(c.state.stamp);
    const seen = valueByStamp.get(key);
    if (seen !== undefined) expect(c.state.on).toBe(seen);
    valueByStamp.set(key, c.state.on);
  }
}

describe("a fleet of node cores", () => {
  it("propagates along a chain: C follows A follows B, a press on B reaches C", () => {
    const follows = { A: ["B"], C: ["A"] };
    const f = boot(["A", "B", "C"], follows);
    f.input("B", { type: "press" });
    expect(f.settle()).toBe(true);
    expect(f.core("C").state).toMatchObject({ on: true, led: true, stamp: { counter: 1, origin: "B" } });
    expectFixpoint(f, follows);
  });

  it("converges around a ring and publishes each event once per node", () => {
    const ids = ["A", "B", "C", "D", "E"];
    const follows = Object.fromEntries(
      ids.map((id, i) => [id, [ids[(i + ids.length - 1) % ids.length] as string]]),
    );
    const f = boot(ids, follows);
    const before = new Map(f.publishes);
    f.input("C", { type: "press" });
    expect(f.settle()).toBe(true);
    for (const id of ids) {
      expect(f.core(id).state.on).toBe(true);
      expect((f.publishes.get(id) ?? 0) - (before.get(id) ?? 0)).toBe(1);
    }
  });

  it("resolves concurrent presses in a cycle to the same state on every node", () => {
    const follows = { A: ["B"], B: ["C"], C: ["A"] };
    const f = boot(["A", "B", "C"], follows);
    f.input("A", { type: "press" });
    f.input("C", { type: "press" });
    f.input("C", { type: "press" }); // C: counter 2, off again; A: counter 1, on
    expect(f.settle()).toBe(true);
    for (const id of ["A", "B", "C"])
      expect(f.core(id).state).toMatchObject({ on: false, stamp: { counter: 2, origin: "C" } });
  });

  it("keeps pairings and state across a reboot through retained messages", () => {
    const follows = { A: ["B"] };
    const f = boot(["A", "B"], follows);
    f.input("B", { type: "press" });
    expect(f.settle()).toBe(true);
    f.input("A", { type: "boot" });
    expect(f.core("A").state.sources).toEqual([]);
    f.input("A", { type: "connected" });
    expect(f.settle()).toBe(true);
    expect(f.core("A").state).toMatchObject({ on: true, sources: ["B"], stamp: { counter: 1, origin: "B" } });
    f.input("B", { type: "press" });
    expect(f.settle()).toBe(true);
    expect(f.core("A").state.on).toBe(false);
  });

  it("settles to what the pairing implies under random presses, duplicates, reconnects and reboots", () => {
    const ids = ["A", "B", "C", "D", "E"];
    const topology = fc.dictionary(
      fc.constantFrom(...ids),
      fc.uniqueArray(fc.constantFrom(...ids), { maxLength: 3 }),
    );
    const action = fc.oneof(
      fc.record({ k: fc.constant("press" as const), id: fc.constantFrom(...ids) }),
      fc.record({ k: fc.constant("deliver" as const), id: fc.constantFrom(...ids), dup: fc.boolean() }),
      fc.record({ k: fc.constant("deliver" as const), id: fc.constantFrom(...ids), dup: fc.constant(false) }),
      fc.record({ k: fc.constant("reconnect" as const), id: fc.constantFrom(...ids) }),
      fc.record({ k: fc.constant("reboot" as const), id: fc.constantFrom(...ids) }),
      fc.record({ k: fc.constant("set" as const), id: fc.constantFrom(...ids), on: fc.boolean() }),
    );
    fc.assert(
      fc.property(topology, fc.array(action, { maxLength: 120 }), (topo, actions) => {
        const follows = Object.fromEntries(
          Object.entries(topo).map(([k, v]) => [k, v.filter((s) => s !== k)]),
        );
        const f = boot(ids, follows);
        const last = new Map(ids.map((id) => [id, stampOf(f, id)]));
        for (const a of actions) {
          f.now += 1;
          if (a.k === "press") f.input(a.id, { type: "press" });
          else if (a.k === "deliver") f.deliver(a.id, a.dup);
          else if (a.k === "set")
            f.input(a.id, { type: "message", topic: `tf/state/${a.id}`, payload: `S1 ${a.on ? 1 : 0} 0` });
          else if (a.k === "reconnect") {
            f.input(a.id, { type: "disconnected" });
            f.input(a.id, { type: "connected" });
          } else {
            f.input(a.id, { type: "boot" });
            f.input(a.id, { type: "connected" });
            last.delete(a.id);
          }
          // A running node never goes back to an older stamp (a reboot forgets until it resyncs).
          for (const id of ids) {
            const s = stampOf(f, id);
            const prev = last.get(id);
            if (prev && f.core(id).state.phase !== "offline")
              expect(compareStamps(s, prev)).toBeGreaterThanOrEqual(0);
            if (f.core(id).state.phase === "synced") last.set(id, s);
          }
        }
        expect(f.settle()).toBe(true);
        expectFixpoint(f, follows);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
