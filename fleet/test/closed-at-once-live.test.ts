/**
 * Nodes the broker closes at once after the run started: told while it happens, once, with how many
 * and why (before, only the report said so). Failures of another kind, or while a fault is under way
 * or about an outage, and nodes connected since, do not count.
 */
import { expect, it } from "vitest";
import type { NodeEvent } from "../../node/metrics.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { BrokerOutages } from "../broker-outages.js";
import {
  CLEAR_MS,
  closedAtOnceClearedLine,
  closedAtOnceLine,
  GATHER_MS,
  watchClosedAtOnce,
} from "../closed-at-once-live.js";
import { Collector } from "../collector.js";

const ids = ["A", "B", "C", "D"].map(NodeId);

function watched(faults = { inProgress: 0 }, down = false) {
  const sched = new FakeScheduler();
  const collector = new Collector(new Map());
  const lines: string[] = [];
  const outages = { near: () => down } as unknown as BrokerOutages;
  const run = { emit: (_: "log", line: string) => lines.push(line), done: new Promise<never>(() => {}) };
  watchClosedAtOnce(collector, sched, faults, outages, run);
  const push = (events: NodeEvent[]) => {
    collector.push(events);
    collector.drain(Math.max(...events.map((e) => e.at)) + 1);
  };
  const closed = (node: NodeId, at: number): NodeEvent => ({
    type: "connect-failed",
    node,
    at,
    reason: "connack-timeout",
    closedAtOnce: true,
  });
  return { sched, lines, push, closed };
}

it("tells the nodes closed at once once, with their count, when they have failed for a while", () => {
  const { sched, lines, push, closed } = watched();
  sched.advance(20_000);
  push([closed(ids[0] as NodeId, 20_000), closed(ids[1] as NodeId, 20_000)]);
  sched.advance(1000);
  push([
    closed(ids[2] as NodeId, 21_000),
    { type: "connect-failed", node: ids[3] as NodeId, at: 21_000, reason: "connack-timeout" },
  ]);
  // B got in meanwhile: not counted.
  push([{ type: "connected", node: ids[1] as NodeId, at: 21_500, attemptAt: 21_000 }]);
  expect(lines).toEqual([]);
  sched.advance(GATHER_MS);
  expect(lines).toEqual([closedAtOnceLine(2)]);
  expect(lines[0]).toMatch(
    /^2 nodes cannot connect: the broker closes their connections at once, before its CONNACK/,
  );
  // Once: more closes later add no line.
  push([closed(ids[1] as NodeId, 30_000)]);
  sched.advance(60_000);
  expect(lines).toHaveLength(1);
});

it("says nothing of closes while a fault is under way or about an outage", () => {
  for (const w of [watched({ inProgress: 1 }), watched({ inProgress: 0 }, true)]) {
    w.push([w.closed(ids[0] as NodeId, 0)]);
    w.sched.advance(60_000);
    expect(w.lines).toEqual([]);
  }
});

it("tells a spell over once its nodes got in, and a second spell later in the run again, each once", () => {
  const { sched, lines, push, closed } = watched();
  const [a, b, c] = ids as [NodeId, NodeId, NodeId];
  const connected = (node: NodeId, at: number): NodeEvent => ({ type: "connected", node, at, attemptAt: at });
  sched.advance(20_000);
  push([closed(a, 20_000), closed(b, 20_000)]);
  sched.advance(GATHER_MS);
  expect(lines).toEqual([closedAtOnceLine(2)]);
  // A gets in; B is still closed at once: the spell goes on, told once.
  push([connected(a, 26_000)]);
  sched.advance(CLEAR_MS * 3);
  push([closed(b, 41_000)]);
  sched.advance(CLEAR_MS * 3);
  expect(lines).toHaveLength(1);
  // B gets in: none closed at once for CLEAR_MS, the spell is over.
  push([connected(b, 57_000)]);
  sched.advance(CLEAR_MS - 1);
  expect(lines).toHaveLength(1);
  sched.advance(1);
  expect(lines).toEqual([closedAtOnceLine(2), closedAtOnceClearedLine(2)]);
  // The broker restarted into its limit again: a second spell, told again (it used to say nothing).
  push([closed(a, 200_000), closed(b, 200_000), closed(c, 200_000)]);
  sched.advance(GATHER_MS + 200_000 - sched.now());
  expect(lines.slice(2)).toEqual([closedAtOnceLine(3)]);
  sched.advance(60_000);
  expect(lines).toHaveLength(3);
});

it("does not tell a spell over while a node closed at once comes back within CLEAR_MS", () => {
  const { sched, lines, push, closed } = watched();
  const [a] = ids as [NodeId];
  sched.advance(10_000);
  push([closed(a, 10_000)]);
  sched.advance(GATHER_MS);
  push([{ type: "connected", node: a, at: 16_000, attemptAt: 16_000 }]);
  sched.advance(CLEAR_MS - 1000);
  push([closed(a, sched.now())]); // closed again: the spell goes on
  sched.advance(CLEAR_MS * 4);
  expect(lines).toEqual([closedAtOnceLine(1)]);
});

it("says nothing of closes an outage noticed after them explains (a broker killed as the nodes connect)", () => {
  // The nodes' connections close at once as the broker dies; the twins service notices the loss a
  // moment after the nodes' closes came in: the outage, told by then, is their cause.
  const sched = new FakeScheduler();
  const collector = new Collector(new Map());
  const lines: string[] = [];
  let lostFrom: number | undefined;
  const near = (at: number, margin: number) => lostFrom !== undefined && at >= lostFrom - margin;
  const outages = { near } as unknown as BrokerOutages;
  const run = { emit: (_: "log", line: string) => lines.push(line), done: new Promise<never>(() => {}) };
  watchClosedAtOnce(collector, sched, { inProgress: 0 }, outages, run);
  sched.advance(1000);
  collector.push(
    ids.map((node) => ({
      type: "connect-failed",
      node,
      at: 1000,
      reason: "connack-timeout",
      closedAtOnce: true,
    })),
  );
  collector.drain(1001);
  sched.advance(50);
  lostFrom = 1040; // the twins' connection dropped; noticed now
  sched.advance(GATHER_MS * 2);
  expect(lines).toEqual([]);
});
