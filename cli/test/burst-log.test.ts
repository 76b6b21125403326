// A standalone twins service's `offline` and `online`-again lines when a whole fleet goes and comes
// back at once: the first few of a burst one by one, the rest one line a second; a lone node as ever.
import { expect, it } from "vitest";
import { BURST_ONE_BY_ONE, BURST_QUIET_MS, BURST_WINDOW_MS } from "../burst-log.js";
import { loggedTwins } from "./logged-twins.js";

const name = (i: number) => `n-${String(i).padStart(4, "0")}`;

function setup() {
  const { scheduler, lines, t, log } = loggedTwins("debug");
  for (let i = 0; i < 500; i++) t.emit("twin-online", t.twin(name(i), { presence: "online" }));
  const go = (i: number) => t.emit("twin-offline", t.twin(name(i), { presence: "offline" }));
  const back = (i: number) => t.emit("twin-online", t.twin(name(i), { presence: "online" }));
  const presenceInfos = () =>
    lines
      .filter((l) => l.level === 30 && /^(offline|online)/.test(l.msg))
      .map((l) => l.msg + (l.node ? ` ${l.node}` : ""));
  return { scheduler, lines, log, go, back, presenceInfos };
}

it("writes a fleet going offline at once in a few lines, each node still at debug", () => {
  const { scheduler, lines, go, presenceInfos } = setup();
  for (let i = 0; i < 500; i++) go(i);
  scheduler.advance(BURST_WINDOW_MS);
  expect(presenceInfos()).toEqual([
    ...[0, 1, 2, 3, 4].map((i) => `offline ${name(i)}`),
    "offline: 495 more nodes within 1 s (n-0005, n-0006, n-0007, n-0008, n-0009, n-0010, n-0011, n-0012, n-0013, n-0014, … 485 more); 0 of 500 nodes online (each at debug)",
  ]);
  expect(BURST_ONE_BY_ONE).toBe(5);
  expect(lines.filter((l) => l.level === 20 && l.msg === "offline")).toHaveLength(495);
});

it("writes a return spread over seconds as a line a second, and a lone node one line as before", () => {
  const { scheduler, go, back, presenceInfos, log } = setup();
  for (let i = 0; i < 500; i++) go(i);
  scheduler.advance(BURST_WINDOW_MS + BURST_QUIET_MS);
  const before = presenceInfos().length;
  // The nodes come back over 3 s, one every 6 ms.
  for (let i = 0; i < 500; i++) {
    back(i);
    scheduler.advance(6);
  }
  scheduler.advance(BURST_WINDOW_MS);
  const returns = presenceInfos().slice(before);
  expect(returns.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `online ${name(i)}`));
  expect(returns.slice(5).map((m) => m.replace(/ \([^)]*\)/, ""))).toEqual([
    "online: 167 more nodes within 1 s; 172 of 500 nodes online (each at debug)",
    "online: 167 more nodes within 1 s; 339 of 500 nodes online (each at debug)",
    "online: 161 more nodes within 1 s; 500 of 500 nodes online (each at debug)",
  ]);
  // Quiet since: a lone node going and coming back is one line each, as before.
  scheduler.advance(BURST_QUIET_MS);
  go(7);
  scheduler.advance(30_000);
  back(7);
  log.stop();
  expect(presenceInfos().slice(before + 8)).toEqual(["offline n-0007", "online n-0007"]);
});

it("sums a pairing burst up without a view of every twin (once a second, 20,000 of them)", () => {
  const { scheduler, lines, t, log } = loggedTwins("info");
  for (let i = 0; i < 300; i++) t.twin(name(i));
  const listed = t.listed;
  for (let i = 0; i < 300; i++) {
    t.emit("twin-updated", t.twin(name(i), { follows: [name((i + 1) % 300)] } as never), "config", false);
    scheduler.advance(4);
  }
  // One node unpaired in the burst: it follows nothing any more.
  t.emit("twin-updated", t.twin(name(0), { follows: [] } as never), "config", false);
  scheduler.advance(BURST_WINDOW_MS);
  log.stop();
  const summaries = lines.filter((l) => /^config: /.test(l.msg)).map((l) => l.msg);
  expect(summaries.at(-1)).toMatch(/; 299 of 300 nodes follow a source/);
  expect(t.listed - listed).toBe(0);
});

it("writes a fleet's first pairing in a few lines, a lone pairing change in one as before", () => {
  const { scheduler, lines, t, log } = loggedTwins("debug");
  const pair = (i: number, source: number) =>
    t.emit("twin-updated", t.twin(name(i), { follows: [name(source)] } as never), "config", false);
  const configInfos = () =>
    lines
      .filter((l) => l.level === 30 && /^config/.test(l.msg))
      .map((l) => l.msg + (l.node ? ` ${l.node}` : ""));
  for (let i = 0; i < 500; i++) t.twin(name(i));
  // A ring of 500 paired at once (its configs within 2 s): 500 lines at info, before.
  for (let i = 0; i < 500; i++) {
    pair(i, (i + 499) % 500);
    scheduler.advance(4);
  }
  scheduler.advance(BURST_WINDOW_MS);
  expect(configInfos().map((m) => m.replace(/ \([^)]*\)/, ""))).toEqual([
    ...[0, 1, 2, 3, 4].map((i) => `config ${name(i)}`),
    "config: 250 more nodes within 1 s; 255 of 500 nodes follow a source (each at debug)",
    "config: 245 more nodes within 1 s; 500 of 500 nodes follow a source (each at debug)",
  ]);
  expect(lines.filter((l) => l.level === 20 && l.msg === "config")).toHaveLength(495);
  // The nodes confirming it: at debug, as before. A lone change later: one line, as before.
  const before = configInfos().length;
  for (let i = 0; i < 500; i++) pair(i, (i + 499) % 500);
  scheduler.advance(30_000);
  pair(7, 3);
  log.stop();
  expect(configInfos().slice(before)).toEqual([`config ${name(7)}`]);
});

it("writes a summary that counts a node before that node's line of the other kind", () => {
  const { scheduler, go, back, presenceInfos } = setup();
  for (let i = 0; i < 500; i++) go(i);
  scheduler.advance(BURST_WINDOW_MS + BURST_QUIET_MS);
  const before = presenceInfos().length;
  // 20 nodes back within 0.2 s, and n-0010 gone again 0.3 s later, inside the summary's second.
  for (let i = 0; i < 20; i++) {
    back(i);
    scheduler.advance(10);
  }
  scheduler.advance(100);
  go(10);
  scheduler.advance(BURST_WINDOW_MS);
  // Before: `offline n-0010` above the summary naming n-0010 among those back, read as back.
  expect(presenceInfos().slice(before + 5)).toEqual([
    "online: 15 more nodes within 1 s (n-0005, n-0006, n-0007, n-0008, n-0009, n-0010, n-0011, n-0012, n-0013, n-0014, … 5 more); 19 of 500 nodes online (each at debug)",
    "offline n-0010",
  ]);
});

it("writes a summary of one node as that node's own line", () => {
  const { scheduler, lines, go, presenceInfos } = setup();
  // Six nodes gone at once: the sixth was `offline: 1 more node within 1 s (n-0005); …`.
  for (let i = 0; i < 6; i++) go(i);
  scheduler.advance(BURST_WINDOW_MS);
  expect(presenceInfos()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `offline ${name(i)}`));
  // Still at debug when it came, as every node past the first few of a burst.
  expect(lines.filter((l) => l.level === 20 && l.msg === "offline").map((l) => l.node)).toEqual([name(5)]);
});

it("writes a burst one way held back before a burst the other way begins", () => {
  const { scheduler, go, back, presenceInfos } = setup();
  for (let i = 0; i < 500; i++) go(i);
  // Half a second later, inside the offline summary's second, the first node is back.
  scheduler.advance(BURST_WINDOW_MS / 2);
  back(0);
  // Before: `online n-0000` above `offline: 495 more nodes …`, a node back before the rest were told
  // gone. The summary's figure is the fleet's when it is written: n-0000 is back.
  expect(presenceInfos().slice(5)).toEqual([
    "offline: 495 more nodes within 1 s (n-0005, n-0006, n-0007, n-0008, n-0009, n-0010, n-0011, n-0012, n-0013, n-0014, … 485 more); 1 of 500 nodes online (each at debug)",
    `online ${name(0)}`,
  ]);
});

it("counts a node whose pairing changed twice within a burst once, and its lines apart", () => {
  const { scheduler, lines, t } = loggedTwins("debug");
  const pair = (i: number, source: number) =>
    t.emit("twin-updated", t.twin(name(i), { follows: [name(source)] } as never), "config", false);
  for (let i = 0; i < 20; i++) t.twin(name(i));
  // 12 nodes paired, then the same 12 paired again to another source within the same second.
  for (let round = 1; round <= 2; round++)
    for (let i = 0; i < 12; i++) {
      pair(i, (i + round) % 20);
      scheduler.advance(10);
    }
  scheduler.advance(BURST_WINDOW_MS);
  const summaries = lines.filter((l) => l.level === 30 && /^config:/.test(l.msg)).map((l) => l.msg);
  // Before: `config: 19 more nodes within 1 s (n-0005, …, n-0011, n-0000, n-0001, n-0002, … 9 more)`,
  // 7 nodes named twice among 19 "nodes".
  expect(summaries).toEqual([
    "config: 12 more nodes within 1 s, 19 lines (n-0005, n-0006, n-0007, n-0008, n-0009, n-0010, n-0011, n-0000, n-0001, n-0002, … 2 more); 12 of 20 nodes follow a source (each at debug)",
  ]);
});
