/**
 * The broker's open-files watch on virtual time: a small limit is said at start, 90 % in use is a
 * WARN, the limit reached (or a count that cannot be read for want of a file) an ERROR naming the
 * limit and the clients, and the way back one line; each only when the level changes.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { OPEN_FILES_EVERY_MS, OpenFilesWatch } from "../open-files-watch.js";

type LogLine = { level: number; msg: string };
const ERROR = 50;
const WARN = 40;
const INFO = 30;

function setup(limit: number, hard = limit, keep?: number) {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const sched = new FakeScheduler();
  const state = { open: 20 as number | "full", clients: 0, refused: 0, full: false, recounts: 0 };
  const reserve = {
    limit,
    reserve: keep ?? 0,
    get refused() {
      return state.refused;
    },
    get full() {
      return state.full;
    },
    recount: () => void state.recounts++,
  };
  const watch = new OpenFilesWatch(
    () => state.clients,
    logger,
    sched,
    keep === undefined ? {} : { reserve },
    {
      files: () => ({ limit, hard, open: state.open === "full" ? limit : state.open }),
      count: () => state.open,
    },
  );
  return { lines, sched, state, watch };
}

it("says a limit with room for few clients at start, with how to raise it", () => {
  const { lines, watch } = setup(256);
  watch.start();
  expect(lines).toHaveLength(1);
  expect(lines[0]?.level).toBe(WARN);
  expect(lines[0]?.msg).toContain(
    "may open 256 files (ulimit -n) and 20 are open: room for about 232 more clients",
  );
  expect(lines[0]?.msg).toContain("LimitNOFILE=");
  const roomy = setup(65536);
  roomy.watch.start();
  expect(roomy.lines).toHaveLength(0);
});

it("warns near the limit, errs at it, and says once when it is back under", () => {
  const { lines, sched, state, watch } = setup(10_000);
  watch.start();
  state.open = 8_999;
  state.clients = 8_950;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines).toHaveLength(0);
  state.open = 9_000;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines.map((l) => l.level)).toEqual([WARN]);
  expect(lines[0]?.msg).toContain("9000 of its 10000 open files in use (ulimit -n; 8950 clients connected)");
  sched.advance(3 * OPEN_FILES_EVERY_MS);
  expect(lines).toHaveLength(1);
  // The directory listing the files cannot be opened: the limit is reached.
  state.open = "full";
  state.clients = 9_960;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines.map((l) => l.level)).toEqual([WARN, ERROR]);
  expect(lines[1]?.msg).toContain(
    "reached its open-files limit (10000 of 10000, ulimit -n; 9960 clients connected)",
  );
  expect(lines[1]?.msg).toContain("closes every new connection unanswered");
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines).toHaveLength(2);
  state.open = 300;
  state.clients = 280;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines.map((l) => l.level)).toEqual([WARN, ERROR, INFO]);
  expect(lines[2]?.msg).toBe("open files back to 300 of 10000 (280 clients connected)");
  watch.stop();
  state.open = "full";
  sched.advance(10 * OPEN_FILES_EVERY_MS);
  expect(lines).toHaveLength(3);
});

it("names ulimit -n alone when the hard limit leaves room", () => {
  const { lines, watch } = setup(256, 4096);
  watch.start();
  expect(lines[0]?.msg).toContain("raise it with `ulimit -n 4096` before starting the broker");
});

it("with a reserve, says the line less it was reached while connections are refused for it", () => {
  const { lines, sched, state, watch } = setup(130, 130, 16);
  state.open = 27;
  watch.start();
  expect(lines[0]?.msg).toContain(
    "130 files (ulimit -n) and 27 are open: room for about 87 more clients (16 more are kept for the broker itself)",
  );
  state.open = 105;
  state.clients = 78;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines.map((l) => l.level)).toEqual([WARN, WARN]);
  expect(lines[1]?.msg).toContain("past 114 (the limit less the 16 files kept for the broker itself)");
  // The clients took what the reserve leaves: connections are refused, the files stay under the limit.
  state.open = 113;
  state.clients = 86;
  state.refused = 40;
  state.full = true;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines.map((l) => l.level)).toEqual([WARN, WARN, ERROR]);
  expect(lines[2]?.msg).toContain(
    "reached its open-files limit less the 16 files it keeps for itself (113 of 130 open, ulimit -n; 86 clients connected)",
  );
  expect(lines[2]?.msg).toContain(
    'closes every new connection at once, before its CONNECT is read (40 so far, counted in twinfleet_broker_connections_refused_total{reason="open-files"})',
  );
  expect(lines[2]?.msg).toContain("/metrics, /healthz, its store and its log keep working");
  // Still at the line with no new refusal: still full, nothing more said.
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines).toHaveLength(3);
  expect(state.recounts).toBe(3);
  // Clients left: back under.
  state.full = false;
  state.open = 40;
  state.clients = 13;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines[3]?.msg).toBe("open files back to 40 of 130 (13 clients connected)");
  // Refusals while the files are under the line (the files in other use grew): full again.
  state.refused = 41;
  sched.advance(OPEN_FILES_EVERY_MS);
  expect(lines[4]?.level).toBe(ERROR);
});
