/**
 * The live-fleet source's event log when nodes come and go by the hundred (view/log-bursts.ts): a
 * lone node's lines as before, the rest of a burst one line, the log in order.
 */
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { TwinsSource } from "../twins-source.js";
import { FakeTwins, twin } from "./fake-twins.js";

const ids = (n: number) => Array.from({ length: n }, (_, i) => NodeId(`n-${String(i).padStart(4, "0")}`));

function fleet(n: number) {
  const t = new FakeTwins();
  t.twins.clear();
  for (const id of ids(n)) t.twins.set(id, twin(id, { kind: "sim", presence: "offline" }));
  const sched = new FakeScheduler(0);
  const s = new TwinsSource(t, "mqtt://x", sched);
  const lines: string[] = [];
  s.on("log", (l) => lines.push(`${l.level} ${l.text}`));
  s.nodes();
  /** `id` comes back (as the service tells it: registered again, then online). */
  const back = (id: NodeId, first = false) => {
    const on = twin(id, { kind: "sim" });
    t.twins.set(id, on);
    t.emit("twin-registered", on, first, !first);
    t.emit("twin-online", on);
  };
  return { t, s, sched, lines, back };
}

it("writes a lone node's lines as they come, and 100 nodes back at once as one line per kind", () => {
  const { sched, lines, back } = fleet(100);
  back(NodeId("n-0042"));
  expect(lines).toEqual(["info n-0042 online"]);
  sched.advance(5_000);
  lines.length = 0;
  // 100 nodes back within 2.1 s (a broker restart, a sim started): 200 lines, now 4.
  for (const [i, id] of ids(100).entries()) {
    sched.advance(i === 0 ? 0 : 21);
    back(id, true);
  }
  expect(lines).toEqual(["info n-0000 registered (sim uno-w5100)", "info n-0000 online"]);
  sched.advance(1_000);
  expect(lines.slice(2)).toEqual([
    "info 99 more nodes registered within 2.1 s (n-0001, n-0002, n-0003, … 96 more): 100 of 100 nodes online",
    "info 99 more nodes online within 2.1 s (n-0001, n-0002, n-0003, … 96 more): 100 of 100 nodes online",
  ]);
  // Once quiet, a node is its own line again.
  sched.advance(2_000);
  back(NodeId("n-0007"));
  expect(lines.slice(4)).toEqual(["info n-0007 online"]);
});

it("keeps the log in order, and tells a long burst every few seconds while it lasts", () => {
  const { t, sched, lines, back } = fleet(40);
  const gone = (id: NodeId) => {
    const off = twin(id, { kind: "sim", presence: "offline" });
    t.twins.set(id, off);
    t.emit("twin-offline", off);
  };
  for (const id of ids(3)) back(id);
  gone(NodeId("n-0000"));
  // Another line (a broker event) comes after the summary of the burst under way, not before it.
  t.emit("broker-dropped", "to-clients", 2);
  // The nodes come are told before one goes: they came first.
  expect(lines.slice(0, 3)).toEqual([
    "info n-0000 online",
    "info 2 more nodes online within 0.0 s (n-0001, n-0002): 3 of 40 nodes online",
    "warn n-0000 offline",
  ]);
  expect(lines[3]).toMatch(/^warn the broker dropped 2 /);
  expect(lines).toHaveLength(4);
  lines.length = 0;
  sched.advance(2_000);
  // A trickle of a node every 500 ms for 11 s: a summary every 5 s (BURST_MAX_MS), not one line per
  // node. The summary is written when it has gathered 5 s, so the node that comes just then is the
  // next one's first (node/node-bursts.ts, as the twins service's log file does).
  for (const id of ids(40).slice(10, 32)) {
    back(id);
    sched.advance(500);
  }
  sched.advance(1_000);
  expect(lines[0]).toBe("info n-0010 online");
  expect(lines.slice(1).map((l) => l.replace(/ \(.*/, ""))).toEqual([
    "info 10 more nodes online within 5.0 s",
    "info 10 more nodes online within 10.0 s",
    // One node left: its own line, not "1 more node".
    "info n-0031 online",
  ]);
});

it("writes the summary that counts a node before that node's line of another kind", () => {
  const { t, sched, lines, back } = fleet(150);
  const gone = (id: NodeId) => {
    const off = twin(id, { kind: "sim", presence: "offline" });
    t.twins.set(id, off);
    t.emit("twin-offline", off);
  };
  // A sim started: 150 nodes online within 2.2 s, and n-0010 gone again 0.3 s after it came.
  for (const [i, id] of ids(150).entries()) {
    sched.advance(i === 0 ? 0 : 15);
    back(id);
    if (id === "n-0010") {
      sched.advance(300);
      gone(id);
    }
  }
  sched.advance(1_000);
  // Before: `warn n-0010 offline` above `149 more nodes online … 149 of 150`, which read as n-0010 back.
  expect(lines).toEqual([
    "info n-0000 online",
    "info 10 more nodes online within 0.1 s (n-0001, n-0002, n-0003, … 7 more): 11 of 150 nodes online",
    "warn n-0010 offline",
    "info 139 more nodes online within 2.5 s (n-0011, n-0012, n-0013, … 136 more): 149 of 150 nodes online",
  ]);
  lines.length = 0;
  // And the other way: a node counted in an outage's summary back before it is written.
  sched.advance(2_000);
  for (const id of ids(5)) {
    gone(id);
    sched.advance(10);
  }
  back(NodeId("n-0003"));
  expect(lines).toEqual([
    "warn n-0000 offline",
    "warn 4 more nodes offline within 0.0 s (n-0001, n-0002, n-0003, … 1 more): 145 of 150 nodes online",
    "info n-0003 online",
  ]);
});

it("tells the nodes gone before those back when a short outage ends, each as its own line when alone", () => {
  const { t, sched, lines, back } = fleet(2);
  for (const id of ids(2)) back(id);
  sched.advance(5_000);
  lines.length = 0;
  // Every node's power cut for 2 s (the console's O key): both go, then both come back.
  for (const id of ids(2)) {
    const off = twin(id, { kind: "sim", presence: "offline" });
    t.twins.set(id, off);
    t.emit("twin-offline", off);
  }
  sched.advance(1_900);
  for (const id of ids(2)) back(id);
  sched.advance(1_000);
  // It read: n-0000 offline, n-0000 online, "1 more node offline within 0.0 s (n-0001): 2 of 2
  // nodes online", "1 more node online …": n-0001 gone after n-0000 came back, and seemingly online.
  expect(lines).toEqual([
    "warn n-0000 offline",
    "warn n-0001 offline",
    "info n-0000 online",
    "info n-0001 online",
  ]);
});
