/**
 * A standalone twins service's lines for the twins forgotten to make room at --max-nodes: the first
 * five of a minute one by one, the rest counted in one line at its end, so that a flood of made-up
 * ids writes a few lines a minute, not one per id.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { FORGOTTEN_LINE, ForgottenLog } from "../forgotten-log.js";

function setup() {
  const sched = new FakeScheduler(0);
  const lines: { msg: string; node?: string; nodes?: number; first?: string[] }[] = [];
  const log = new ForgottenLog(
    pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s)) }),
    sched,
  );
  return { sched, lines, log };
}

it("writes the first 5 of a minute one by one and counts the rest in one line at its end", () => {
  const { sched, lines, log } = setup();
  const ids = Array.from({ length: 20_000 }, (_, i) => NodeId(`f-${i}`));
  for (const id of ids) log.forgotten(id);
  expect(lines.map((l) => [l.msg, l.node])).toEqual(ids.slice(0, 5).map((id) => [FORGOTTEN_LINE, id]));
  sched.advance(60_000);
  expect(lines).toHaveLength(6);
  expect(lines[5]).toMatchObject({ nodes: 19_995, first: ids.slice(5, 15) });
  expect(lines[5]?.msg).toMatch(
    /^19995 more nodes forgotten to make room at --max-nodes in the minute, besides the 5 named one by one \(first f-5, f-6, .*, f-14\)/,
  );
  // A new minute names its first ones again.
  log.forgotten(NodeId("n-1"));
  expect(lines[6]).toMatchObject({ msg: FORGOTTEN_LINE, node: "n-1" });
});

it("writes the count under way when the service stops", () => {
  const { sched, lines, log } = setup();
  for (let i = 0; i < 8; i++) log.forgotten(NodeId(`f-${i}`));
  log.stop();
  expect(lines).toHaveLength(6);
  expect(lines[5]).toMatchObject({ nodes: 3 });
  sched.advance(60_000);
  expect(lines).toHaveLength(6);
});
