/**
 * The broker's log of ordinary client errors, on an injected clock: twenty lines a window, then one
 * summary by error at the window's end; a flood that goes on is summed up only; lines again after a
 * quiet window; what is held is written when the broker closes.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { CLIENT_ERROR_LINES, CLIENT_ERROR_WINDOW_MS, ClientErrorLog } from "../client-error-log.js";

function setup() {
  const lines: {
    msg: string;
    level?: number;
    byError?: Record<string, number>;
    byCut?: Record<string, number>;
  }[] = [];
  const logger = pino(
    { level: "info" },
    { write: (s: string) => lines.push(JSON.parse(s) as (typeof lines)[number]) },
  );
  const sched = new FakeScheduler();
  return { lines, log: new ClientErrorLog(logger, sched), advance: (to: number) => sched.runUntil(to) };
}

const timeout = new Error("keep alive timeout");
const closed = new Error("connection closed");

it("writes twenty lines a window, then one summary by error at its end", () => {
  const { lines, log, advance } = setup();
  for (let i = 0; i < 600; i++) log.log(`n-${i}`, i % 3 === 0 ? closed : timeout);
  expect(lines).toHaveLength(CLIENT_ERROR_LINES);
  expect(lines.every((l) => l.msg === "client error")).toBe(true);
  advance(CLIENT_ERROR_WINDOW_MS);
  expect(lines).toHaveLength(CLIENT_ERROR_LINES + 1);
  expect(lines.at(-1)).toMatchObject({
    msg: "580 more client errors in 10 s, not logged one by one (387 keep alive timeout, 193 connection closed)",
    byError: { "keep alive timeout": 387, "connection closed": 193 },
  });
});

it("sums up a flood that goes on, and writes lines again after a quiet window", () => {
  const { lines, log, advance } = setup();
  for (let i = 0; i < 30; i++) log.log("a", timeout);
  advance(CLIENT_ERROR_WINDOW_MS + 1);
  const after1 = lines.length;
  for (let i = 0; i < 5; i++) log.log("a", timeout);
  advance(2 * CLIENT_ERROR_WINDOW_MS + 2);
  expect(lines.slice(after1).map((l) => l.msg)).toEqual([
    "5 more client errors in 10 s, not logged one by one (5 keep alive timeout)",
  ]);
  advance(5 * CLIENT_ERROR_WINDOW_MS);
  log.log("b", closed);
  expect(lines.at(-1)?.msg).toBe("client error");
});

it("writes what it holds when the broker closes", () => {
  const { lines, log } = setup();
  for (let i = 0; i < 25; i++) log.log("a", closed);
  log.stop();
  expect(lines.at(-1)?.msg).toBe("5 more client errors in 10 s, not logged one by one (5 connection closed)");
});

it("writes twenty cuts a window at WARN, then one WARN summary by cut, apart from the client errors", () => {
  const { lines, log, advance } = setup();
  const cut = (what: string) => () => log.cut(what, () => lines.push({ msg: `connection cut: ${what}` }));
  for (let i = 0; i < 1000; i++) cut(i % 4 === 0 ? "socket stalled" : "packet limit")();
  // The client errors' window is its own: a flood of cuts does not silence them.
  log.log("n-1", timeout);
  expect(lines).toHaveLength(CLIENT_ERROR_LINES + 1);
  expect(lines.at(-1)?.msg).toBe("client error");
  advance(CLIENT_ERROR_WINDOW_MS);
  expect(lines.at(-1)).toMatchObject({
    level: 40,
    msg: "980 more connections cut in 10 s, not logged one by one (735 packet limit, 245 socket stalled)",
    byCut: { "packet limit": 735, "socket stalled": 245 },
  });
});
