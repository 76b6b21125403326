/**
 * The longest an online follower has been behind a direct source (`twinfleet_sync_behind_max_seconds`):
 * timed from the convergence report that first showed it so, on an injected clock; ahead, behind
 * only further up, offline, and everything while the broker is not heard are not counted.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import type { ConvergenceReport, FollowerSync, SyncStatus, Twin, TwinsEvents } from "../../twins/index.js";
import { behindWatch } from "../behind.js";

class FakeTwins extends EventEmitter<TwinsEvents> {
  waiting: undefined | { broker: string; since: number } = undefined;
  readonly presence = new Map<string, "online" | "offline">();
  /** Each node's reported stamp counter (none: no report seen). */
  readonly counter = new Map<string, number>();
  report: ConvergenceReport = { followers: [], inSync: 0, known: 0, fraction: 1 };
  get(id: string): Twin | undefined {
    const presence = this.presence.get(id);
    if (presence === undefined) return undefined;
    const n = this.counter.get(id);
    const reported = n === undefined ? undefined : { on: true, stamp: { counter: n, origin: NodeId("a") } };
    return { id: NodeId(id), presence, reported } as unknown as Twin;
  }
  convergence(): ConvergenceReport {
    return this.report;
  }
  /** A new report: each follower with its status and the sources it waits on. */
  show(followers: [string, SyncStatus, string[]][]): void {
    const list: FollowerSync[] = followers.map(([id, status, waitingOn]) => ({
      id: NodeId(id),
      status,
      stamp: undefined,
      target: undefined,
      waitingOn: waitingOn.map(NodeId),
    }));
    const inSync = list.filter((f) => f.status === "in-sync").length;
    this.report = { followers: list, inSync, known: list.length, fraction: inSync / list.length };
    this.emit("convergence", this.report);
  }
}

function setup() {
  let t = 1000;
  const twins = new FakeTwins();
  for (const id of ["a", "b", "c", "d"]) twins.presence.set(id, "online");
  const read = behindWatch(twins, () => t);
  return { twins, read, advance: (ms: number) => (t += ms) };
}

describe("behindWatch", () => {
  it("times an online follower behind its source from the report that showed it, until it catches up", () => {
    const { twins, read, advance } = setup();
    expect(read()).toBe(0);
    twins.show([["b", "behind", ["a"]]]);
    advance(400);
    expect(read()).toBe(400);
    // A later report that still shows it behind does not restart its time.
    twins.show([
      ["b", "behind", ["a"]],
      ["c", "behind", ["b"]],
    ]);
    advance(1100);
    expect(read()).toBe(1500);
    twins.show([
      ["b", "in-sync", []],
      ["c", "behind", ["b"]],
    ]);
    expect(read()).toBe(1100);
    twins.show([
      ["b", "in-sync", []],
      ["c", "in-sync", []],
    ]);
    expect(read()).toBe(0);
  });

  it("leaves out a follower ahead, one behind only through a node further up, and an offline one", () => {
    const { twins, read, advance } = setup();
    twins.show([
      ["b", "ahead", []],
      ["c", "behind", []],
      ["d", "behind", ["a"]],
    ]);
    twins.presence.set("d", "offline");
    advance(5000);
    expect(read()).toBe(0);
    // Back online still behind: timed from its return.
    twins.presence.set("d", "online");
    twins.emit("twin-online", twins.get("d")!);
    advance(300);
    expect(read()).toBe(300);
  });

  it("stops counting a follower whose report has caught up before the report that says so", () => {
    const { twins, read, advance } = setup();
    twins.counter.set("a", 5);
    twins.counter.set("b", 4);
    twins.counter.set("c", 4);
    twins.show([
      ["b", "behind", ["a"]],
      ["c", "behind", ["a"]],
    ]);
    advance(300);
    expect(read()).toBe(300);
    // b has taken a's stamp; no convergence report yet.
    twins.counter.set("b", 5);
    advance(20);
    expect(read()).toBe(320);
    twins.counter.set("c", 5);
    expect(read()).toBe(0);
    // A newer press at a: the report still to come will show them behind again.
    twins.counter.set("a", 6);
    expect(read()).toBe(320);
  });

  it("counts nothing while the broker is not heard, and times a follower still behind from its return", () => {
    const { twins, read, advance } = setup();
    twins.show([["b", "behind", ["a"]]]);
    advance(2000);
    expect(read()).toBe(2000);
    twins.emit("broker", false, 900, "lost");
    advance(30_000);
    expect(read()).toBe(0);
    twins.show([["b", "behind", ["a"]]]);
    expect(read()).toBe(0);
    twins.emit("broker", true);
    advance(700);
    expect(read()).toBe(700);
  });

  it("waits for a broker not reached yet", () => {
    let t = 0;
    const twins = new FakeTwins();
    twins.presence.set("b", "online");
    twins.waiting = { broker: "mqtt://127.0.0.1:1", since: 0 };
    twins.report = {
      followers: [
        { id: NodeId("b"), status: "behind", stamp: undefined, target: undefined, waitingOn: [NodeId("a")] },
      ],
      inSync: 0,
      known: 1,
      fraction: 0,
    };
    const read = behindWatch(twins, () => t);
    t += 10_000;
    expect(read()).toBe(0);
    twins.emit("broker", true);
    t += 250;
    expect(read()).toBe(250);
  });
});
