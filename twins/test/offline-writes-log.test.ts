/**
 * A bulk re-pairing of nodes that are away (an operator's script putting thousands of pairings
 * through the API while the nodes are off) writes a retained config per node: its lines are grouped
 * as a site's power cut is, not one info line per node.
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { OFFLINE_WRITE_LINE, OFFLINE_WRITES_WINDOW_MS, OfflineWritesLog } from "../offline-writes-log.js";
import { Fixtures } from "./helpers.js";

interface Line {
  level: number;
  msg: string;
  node?: string;
  nodes?: number;
  lines?: number;
  first?: string[];
}
const INFO = 30;
const id = (i: number) => NodeId(`n-${String(i).padStart(4, "0")}`);
const capture = (level: "info" | "debug") => {
  const lines: Line[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, logger };
};

describe("OfflineWritesLog", () => {
  it("writes the first 5 of a burst one by one and counts the rest in a line a second", () => {
    const sched = new FakeScheduler(0);
    const { lines, logger } = capture("info");
    const log = new OfflineWritesLog(logger, sched);
    for (let i = 0; i < 300; i++) {
      log.written(id(i), 2, [id(i + 1)]);
      sched.advance(5); // 200 a second
    }
    log.flush();
    const own = lines.filter((l) => l.msg === OFFLINE_WRITE_LINE);
    expect(own.map((l) => l.node)).toEqual([0, 1, 2, 3, 4].map((i) => id(i)));
    const sums = lines.filter((l) => l.msg !== OFFLINE_WRITE_LINE);
    expect(sums.map((l) => l.nodes)).toEqual([200, 95]); // one line per second of the burst
    expect(sums[0]?.msg).toMatch(
      /^twins: wrote the retained configs of 200 more offline nodes within 1 s \(n-0005, n-0006, .*, … 190 more; each at debug\)$/,
    );
  });

  it("writes a lone pairing on its own line, and one after a quiet second on its own again", () => {
    const sched = new FakeScheduler(0);
    const { lines, logger } = capture("info");
    const log = new OfflineWritesLog(logger, sched);
    log.written(id(1), 3, [id(2)]);
    sched.advance(OFFLINE_WRITES_WINDOW_MS);
    log.written(id(7), 4, []);
    expect(lines).toMatchObject([
      { msg: OFFLINE_WRITE_LINE, node: "n-0001", version: 3, sources: ["n-0002"] },
      { msg: OFFLINE_WRITE_LINE, node: "n-0007", version: 4, sources: [] },
    ]);
  });
});

describe("a bulk pairing of nodes away, on a real broker", () => {
  const fx = new Fixtures();
  afterEach(() => fx.close());

  it("accounts for every write, most of them in summaries rather than a line each", async () => {
    const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
    fx.url = b.url;
    const { lines, logger } = capture("info");
    const t = await fx.twins({ logger });
    const n = 200;
    for (let i = 0; i < n; i++) await t.pair(id(i), id(i + n)); // never seen: each a retained config
    await t.close();
    const own = lines.filter((l) => l.level === INFO && l.msg === OFFLINE_WRITE_LINE);
    const summed = lines
      .filter((l) => l.msg.startsWith("twins: wrote the retained configs of"))
      .reduce((sum, l) => sum + (l.nodes ?? 0), 0);
    expect(own.length + summed).toBe(n);
    // 5 a burst; a burst ends only after a quiet second, which a busy host may leave now and then.
    expect(own.length).toBeLessThan(n / 4);
  }, 60_000);
});
