/**
 * The twins service keeps its time on one injected scheduler (time.test.ts checks no module of
 * twins/ reads the host's clock): its timers (connect timeout, re-checks, the convergence throttle)
 * run on a FakeScheduler as far as it is advanced.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { type Message, NodeId, Prefix } from "../../protocol/index.js";
import type { ConvergenceReport, SyncStatus } from "../convergence.js";
import { ConvergenceFeed } from "../convergence-feed.js";
import { Reconciler } from "../reconcile.js";
import { TwinRegistry } from "../registry.js";
import { startTwins } from "../service.js";

/** Lets pending promise callbacks and I/O run (one turn of the event loop), without waiting on time. */
const turn = () => new Promise<void>((r) => setImmediate(r));

describe("the convergence feed on a fake clock", () => {
  it("computes at once after a quiet spell, then at most every everyMs, stamping the series", () => {
    const sched = new FakeScheduler(1000);
    let computed = 0;
    let status: SyncStatus = "behind";
    const emitted: number[] = [];
    const feed = new ConvergenceFeed({
      scheduler: sched,
      everyMs: 100,
      capacity: 8,
      compute: (): ConvergenceReport => {
        computed++;
        const inSync = status === "in-sync" ? 1 : 0;
        const follower = { id: NodeId("A"), status, stamp: undefined, target: undefined, waitingOn: [] };
        return { fraction: inSync, inSync, known: 1, followers: [follower] };
      },
      emit: (r) => emitted.push(r.fraction),
    });
    feed.schedule();
    feed.schedule(); // a burst: one computation
    sched.advance(0);
    expect(computed).toBe(1);
    sched.advance(10);
    status = "in-sync";
    feed.schedule();
    sched.advance(89); // 1099: within 100 ms of the last computation
    expect(computed).toBe(1);
    sched.advance(1);
    expect(computed).toBe(2);
    expect(feed.history().map((p) => [p.t, p.fraction])).toEqual([
      [1000, 0],
      [1100, 1],
    ]);
    // Unchanged statuses add no point; a stopped feed computes nothing more.
    sched.advance(500);
    feed.schedule();
    sched.advance(0);
    expect(computed).toBe(3);
    expect(emitted).toEqual([0, 1]);
    feed.schedule();
    feed.stop();
    sched.advance(1000);
    expect(computed).toBe(3);
    expect(sched.pending).toBe(0);
  });
});

describe("the reconciler on a fake clock", () => {
  it("re-sends an unconfirmed pairing after the hold, backing off by doubling", async () => {
    const A = NodeId("A");
    const B = NodeId("B");
    const sched = new FakeScheduler();
    const registry = new TwinRegistry(Prefix("tf"));
    registry.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 0);
    registry.setDesiredSources(A, [B], 1);
    const sent: [number, string][] = [];
    const reconciler = new Reconciler({
      registry,
      send: async (msg: Message) => {
        sent.push([sched.now(), msg.kind === "subscribe" ? `F ${msg.source}` : msg.kind]);
      },
      apply: () => {},
      scheduler: sched,
      holdMs: 1000,
      onError: (err) => {
        throw err;
      },
    });
    await reconciler.reconcile(A, false);
    await reconciler.reconcile(A, false); // within the hold: nothing again
    expect(sent).toEqual([[0, "F B"]]);
    for (const t of [999, 1000, 2999, 3000, 6999, 7000]) {
      sched.runUntil(t);
      await turn();
    }
    expect(sent).toEqual([
      [0, "F B"],
      [1000, "F B"],
      [3000, "F B"],
      [7000, "F B"],
    ]);
    reconciler.stop();
    expect(sched.pending).toBe(0);
  });
});

describe("the twins service on a fake clock", () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it("gives up on a broker that never answers when its scheduler reaches the connect timeout", async () => {
    const accepted = new Promise<void>((resolve) => {
      server = createServer((s) => {
        sockets.push(s); // accepted, never answered: no CONNACK
        resolve();
      });
    });
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
    const address = server?.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const sched = new FakeScheduler();
    let settled = false;
    const started = startTwins({
      url: `mqtt://127.0.0.1:${port}`,
      scheduler: sched,
      connectTimeoutMs: 5000,
      reconnectPeriodMs: 0,
    }).finally(() => {
      settled = true;
    });
    started.catch(() => {});
    await accepted;
    sched.advance(4999);
    await turn();
    expect(settled).toBe(false);
    sched.advance(1);
    await expect(started).rejects.toThrow("no answer (CONNACK) within 5000 ms");
  });

  it("says the same when the MQTT client's own CONNACK timer (wall time) runs out first", async () => {
    await new Promise<void>((resolve) => {
      server = createServer((s) => sockets.push(s)); // accepted, never answered
      server.listen(0, "127.0.0.1", resolve);
    });
    const address = server?.address();
    const port = typeof address === "object" && address ? address.port : 0;
    // The fake clock never moves: only the client's timer, of the same length, can fire.
    const started = startTwins({
      url: `mqtt://127.0.0.1:${port}`,
      scheduler: new FakeScheduler(),
      connectTimeoutMs: 50,
      reconnectPeriodMs: 0,
    });
    await expect(started).rejects.toMatchObject({
      reason: "timeout",
      message: `cannot reach the broker at mqtt://127.0.0.1:${port}: no answer (CONNACK) within 50 ms`,
    });
  });
});
