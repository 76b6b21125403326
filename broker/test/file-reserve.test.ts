/**
 * The broker's open-files reserve on virtual time with counted files given: far from the line a
 * connection is kept without a count; near it the files are counted again (at most once a second),
 * and past the limit less the reserve less the files in other use it is refused and counted.
 */
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { defaultReserve, FileReserve } from "../file-reserve.js";

function setup(limit: number, others: number, reserve?: number) {
  const sched = new FakeScheduler();
  const state = { sockets: 0, others, counts: 0, full: false };
  const count = (): number | "full" => {
    state.counts++;
    return state.full ? "full" : state.others + state.sockets;
  };
  const files = FileReserve.open(() => state.sockets, sched, reserve, {
    files: () => ({ limit, hard: limit, open: state.others + state.sockets }),
    count,
  });
  if (!files) throw new Error("no reserve");
  /** A connection accepted: kept (its socket counted) or refused. */
  const connect = (): boolean => {
    const kept = files.admit();
    if (kept) state.sockets++;
    return kept;
  };
  return { sched, state, files, connect };
}

it("keeps a sixteenth of the limit, 16 to 256 files", () => {
  expect(defaultReserve(130)).toBe(16);
  expect(defaultReserve(1024)).toBe(64);
  expect(defaultReserve(1_048_576)).toBe(256);
});

it("keeps sockets up to the limit less the reserve and the files in other use, then refuses", () => {
  const { state, files, connect } = setup(130, 27);
  expect(files.reserve).toBe(16);
  expect(files.room).toBe(87);
  let kept = 0;
  for (let i = 0; i < 200; i++) if (connect()) kept++;
  expect(kept).toBe(87);
  expect(files.refused).toBe(113);
  expect(files.full).toBe(true);
  // Far from the line nothing was counted: the start's count held; at it, once (the clock stood still).
  expect(state.counts).toBe(1);
  // One client goes: the next is kept.
  state.sockets--;
  expect(connect()).toBe(true);
  expect(connect()).toBe(false);
});

it("counts the files in other use again near the line, at most once a second", () => {
  const { sched, state, files, connect } = setup(1000, 50, 100);
  for (let i = 0; i < 700; i++) connect();
  expect(state.counts).toBe(0);
  // The store opened 80 files meanwhile: the line moves down once they are counted.
  state.others += 80;
  for (let i = 0; i < 100; i++) connect();
  expect(state.counts).toBe(1);
  expect(state.sockets).toBe(770);
  expect(files.refused).toBe(30);
  // They are closed again: a second later the next connection near the line sees it.
  state.others -= 80;
  expect(connect()).toBe(false);
  sched.advance(1_000);
  expect(connect()).toBe(true);
  expect(state.counts).toBe(2);
});

it("refuses every connection while not even the files can be counted (the limit itself reached)", () => {
  const { state, files, connect } = setup(130, 27);
  state.full = true;
  files.recount();
  expect(connect()).toBe(false);
  expect(files.refused).toBe(1);
});

it("is none where the limit is not finite or there is no count", () => {
  const sched = new FakeScheduler();
  const open = (limit: number) =>
    FileReserve.open(() => 0, sched, undefined, {
      files: () => ({ limit, hard: limit, open: 10 }),
      count: () => 10,
    });
  expect(open(Number.POSITIVE_INFINITY)).toBeUndefined();
  expect(
    FileReserve.open(() => 0, sched, undefined, { files: () => undefined, count: () => undefined }),
  ).toBeUndefined();
});
