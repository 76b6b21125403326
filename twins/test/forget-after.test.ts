/**
 * `--forget-after`'s judge (twins/forget-after.ts) on a FakeScheduler, the fleet and the retiring
 * faked: who is retired at a sweep and who never is (online, seen within the span, undated), nothing
 * while the link is down or the retained state re-read, the time not watched not counted as silence,
 * and one summary line past FORGET_LINES_MAX nodes.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { FORGET_LINES_MAX, FORGET_SWEEP_MS, ForgetAfter, type SeenNode } from "../forget-after.js";
import type { Presence } from "../types.js";
import { loggedLines } from "./own-broker.js";

const HOUR = 3_600_000;
const MIN = 60_000;

function fleet(
  nodes: Record<string, { presence: Presence; lastSeen?: number }>,
  onRetire = (_id: string) => {},
) {
  const sched = new FakeScheduler(10 * HOUR);
  const map = new Map<NodeId, SeenNode>(
    Object.entries(nodes).map(([id, n]) => [NodeId(id), { id: NodeId(id), ...n }]),
  );
  const retired: string[] = [];
  const forgot: [string, number][] = [];
  const { logger, lines } = loggedLines<{ msg: string }>("info");
  const judge = new ForgetAfter({
    spanMs: HOUR,
    spanText: "1 h",
    scheduler: sched,
    logger,
    nodes: () => map.values(),
    node: (id) => map.get(id),
    retire: async (id) => {
      retired.push(id);
      map.delete(id);
      onRetire(id);
    },
    forgot: (id, ms) => forgot.push([id, ms]),
  });
  /** Moves the clock by `ms`, its sweeps run, and lets their retiring settle. */
  const step = async (ms: number) => {
    sched.advance(ms);
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const said = () => lines.map((l) => l.msg);
  return { sched, map, judge, retired, forgot, said, step };
}

describe("--forget-after's judge", () => {
  it("retires a node silent past the span at a sweep, never an online one, one seen within it, or one without a date", async () => {
    const f = fleet({
      gone: { presence: "offline", lastSeen: 10 * HOUR },
      live: { presence: "online", lastSeen: 10 * HOUR - 5 * HOUR },
      recent: { presence: "offline", lastSeen: 10 * HOUR + 30 * MIN },
      undated: { presence: "unknown" },
    });
    f.judge.watch(); // the re-read of the retained state is over
    await f.step(HOUR); // gone silent exactly the span at the last sweep: not past it
    expect(f.retired).toEqual([]);
    await f.step(FORGET_SWEEP_MS);
    expect(f.retired).toEqual(["gone"]);
    expect(f.forgot).toEqual([["gone", HOUR + FORGET_SWEEP_MS]]);
    await f.step(24 * HOUR);
    expect(f.retired).toEqual(["gone", "recent"]);
    expect([...f.map.keys()]).toEqual(["live", "undated"]);
    expect(f.said().filter((l) => l.includes("no last-seen date"))).toHaveLength(1);
    f.judge.stop();
  });

  it("retires nothing while the link is down or being re-read, nor within a sweep period after, and counts no silence then", async () => {
    const f = fleet({
      a: { presence: "offline", lastSeen: 10 * HOUR },
      b: { presence: "offline", lastSeen: 5 * HOUR },
    });
    await f.step(3 * HOUR); // the first re-read not over: nothing, however long
    expect(f.retired).toEqual([]);
    f.judge.watch(); // a seen 3 h ago, all of it not watched; b 5 h ago, 2 h of it watched (before the start)
    await f.step(FORGET_SWEEP_MS - 1); // just watching: the query's answers first
    expect(f.retired).toEqual([]);
    await f.step(1);
    expect(f.retired).toEqual(["b"]);
    await f.step(30 * MIN - FORGET_SWEEP_MS);
    f.judge.unwatch(); // the link goes down for 2 h
    await f.step(2 * HOUR);
    expect(f.retired).toEqual(["b"]);
    f.judge.watch();
    await f.step(FORGET_SWEEP_MS); // a: silent 31 min while watched
    expect(f.judge.silentFor(f.map.get(NodeId("a")) as SeenNode)).toBe(31 * MIN);
    await f.step(29 * MIN);
    expect(f.retired).toEqual(["b"]);
    await f.step(FORGET_SWEEP_MS);
    expect(f.retired).toEqual(["b", "a"]);
    f.judge.stop();
  });

  it("does not retire a node heard between the look and its turn", async () => {
    const f = fleet(
      { a: { presence: "offline", lastSeen: 9 * HOUR }, b: { presence: "offline", lastSeen: 9 * HOUR - 1 } },
      (id) => {
        if (id === "b")
          f.map.set(NodeId("a"), { id: NodeId("a"), presence: "online", lastSeen: f.sched.now() });
      },
    );
    f.judge.watch();
    await f.step(FORGET_SWEEP_MS);
    expect(f.retired).toEqual(["b"]); // the longest silent first; a came online meanwhile
    expect(f.map.get(NodeId("a"))?.presence).toBe("online");
    f.judge.stop();
  });

  it("says one line for a sweep of many, naming how many", async () => {
    const many = Object.fromEntries(
      Array.from({ length: FORGET_LINES_MAX + 5 }, (_, i) => [
        `n${String(i).padStart(2, "0")}`,
        { presence: "offline" as const, lastSeen: 10 * HOUR },
      ]),
    );
    const f = fleet(many);
    f.judge.watch();
    await f.step(HOUR + FORGET_SWEEP_MS);
    expect(f.retired).toHaveLength(FORGET_LINES_MAX + 5);
    expect(f.said().filter((l) => l.includes("forgot"))).toEqual([
      `twins: forgot ${FORGET_LINES_MAX + 5} nodes not seen for over 1 h (--forget-after; the longest silent 1 h 1 min): their retained status, config and report cleared, their followers unpaired`,
    ]);
    f.judge.stop();
  });
});
