// A standalone twins service's log of its fleet: each report, register and first coming online at
// debug, one info summary a minute while they come; a node going offline and back, a changed
// identity and a changed pairing at info, as before.
import { expect, it } from "vitest";
import type { NodeId } from "../../protocol/index.js";
import type { Twin } from "../../twins/types.js";
import { ACTIVITY_WINDOW_MS } from "../activity-log.js";
import { type Line, loggedTwins } from "./logged-twins.js";

function setup(level: "info" | "debug") {
  const { scheduler, lines, t, log } = loggedTwins(level);
  const id = { kind: "sim", profile: "uno-w5100", firmware: "1.0.0" } as const;
  const start = (node: string) => {
    t.emit("twin-online", t.twin(node, { presence: "online" }));
    t.emit("twin-registered", t.twin(node, id), true, false);
  };
  const report = (node: string, on: boolean, counter: number) =>
    t.emit(
      "twin-updated",
      t.twin(node, { reported: { on, stamp: { counter, origin: node } } } as Partial<Twin>),
      "report",
    );
  return { scheduler, lines, t, log, start, report, id };
}

const infos = (lines: Line[]) => lines.filter((l) => l.level >= 30);

it("writes no line per report, register or node coming online at info: one summary a minute", () => {
  const { scheduler, lines, start, report } = setup("info");
  for (const node of ["n-0", "n-1", "n-2"]) start(node);
  for (let i = 1; i <= 30; i++) {
    report(`n-${i % 2}`, i % 2 === 0, i);
    scheduler.advance(1000);
  }
  expect(infos(lines)).toEqual([]);
  scheduler.advance(ACTIVITY_WINDOW_MS - 30_000);
  expect(infos(lines)).toEqual([
    expect.objectContaining({
      level: 30,
      seconds: 60,
      reports: 30,
      reporting: 2,
      registered: 3,
      new: 3,
      came: 3,
      left: 0,
      online: 3,
      known: 3,
      msg: "twins: in 60 s: 30 reports from 2 nodes; 3 registered (3 new), 3 came online, 0 went offline; 3 of 3 nodes online (reports and registers each at debug)",
    }),
  ]);
  // A quiet fleet writes nothing; the next report opens the next minute.
  scheduler.advance(10 * ACTIVITY_WINDOW_MS);
  expect(lines).toHaveLength(1);
  report("n-2", true, 31);
  scheduler.advance(ACTIVITY_WINDOW_MS);
  expect(lines.at(-1)).toMatchObject({ reports: 1, reporting: 1, registered: 0, came: 0, online: 3 });
  expect(lines).toHaveLength(2);
});

it("keeps every line at debug", () => {
  const { lines, start, report, log } = setup("debug");
  start("n-0");
  report("n-0", true, 1);
  report("n-0", false, 2);
  log.stop();
  expect(lines.map((l) => [l.level, l.msg.split(":")[0]])).toEqual([
    [20, "online"],
    [20, "registered"],
    [20, "report"],
    [20, "report"],
    [30, "twins"],
  ]);
  expect(lines[2]).toMatchObject({ node: "n-0", on: true, stamp: { counter: 1, origin: "n-0" } });
});

it("writes a node going offline and back, a changed identity and a changed pairing at info", () => {
  const { lines, t, start, id } = setup("info");
  start("n-0");
  t.emit("twin-offline", t.twin("n-0", { presence: "offline" }));
  t.emit("twin-online", t.twin("n-0", { presence: "online" }));
  t.emit("twin-registered", t.twin("n-0"), false, false); // as it was: at debug
  t.emit("twin-registered", t.twin("n-0", { ...id, firmware: "1.1.0" }), false, false);
  t.emit("twin-updated", t.twin("n-0", { follows: ["n-1" as NodeId] }), "config");
  t.emit("twin-updated", t.twin("n-0"), "config"); // the node confirming it: at debug
  t.emit("twin-updated", t.twin("n-0", { follows: [] }), "config");
  expect(infos(lines).map((l) => [l.msg, l.node, l.firmware ?? l.follows])).toEqual([
    ["offline", "n-0", undefined],
    ["online", "n-0", undefined],
    ["registered", "n-0", "1.1.0"],
    ["config", "n-0", ["n-1"]],
    ["config", "n-0", []],
  ]);
});

it("counts the nodes that came and left in the summary written when the service stops", () => {
  const { scheduler, lines, t, start, log } = setup("info");
  start("n-0");
  start("n-1");
  scheduler.advance(12_400);
  t.emit("twin-offline", t.twin("n-1", { presence: "offline" }));
  log.stop();
  expect(lines.at(-1)).toMatchObject({ seconds: 12, registered: 2, came: 2, left: 1, online: 1, known: 2 });
});

it("counts the nodes heard again after a broker restart apart from those that came online", () => {
  const { scheduler, lines, t, start } = setup("info");
  for (const node of ["n-0", "n-1", "n-2"]) start(node);
  scheduler.advance(ACTIVITY_WINDOW_MS);
  // n-0 went and came back; n-1 and n-2 stayed up while the broker restarted on its store, shown
  // unheard until heard (twins/node-presence.ts). They were online all along: they did not come online.
  t.emit("twin-offline", t.twin("n-0", { presence: "offline" }));
  for (const node of ["n-1", "n-2"])
    t.emit("twin-updated", t.twin(node, { presence: "unheard" }), "presence");
  for (const node of ["n-0", "n-1", "n-2"]) t.emit("twin-online", t.twin(node, { presence: "online" }));
  scheduler.advance(ACTIVITY_WINDOW_MS);
  const summary = lines.filter((l) => l.msg.startsWith("twins: in ")).at(-1);
  expect(summary).toMatchObject({
    came: 1,
    reheard: 2,
    left: 1,
    msg: "twins: in 60 s: 0 reports from 0 nodes; 0 registered, 1 came online, 2 heard again after the broker restarted, 1 went offline; 3 of 3 nodes online (reports and registers each at debug)",
  });
  // Heard once, the next return is a coming online again.
  t.emit("twin-offline", t.twin("n-1", { presence: "offline" }));
  t.emit("twin-online", t.twin("n-1", { presence: "online" }));
  scheduler.advance(ACTIVITY_WINDOW_MS);
  expect(lines.filter((l) => l.msg.startsWith("twins: in ")).at(-1)).toMatchObject({
    came: 1,
    reheard: 0,
    left: 1,
  });
});
