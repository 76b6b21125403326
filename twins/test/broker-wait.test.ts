/**
 * A twins service started before its broker (`waitForBroker`): it is returned at once with its
 * stored twins, tries again while nothing listens (one WARN naming the broker and the cause, a
 * reminder every 30 s on its clock, not a line per attempt), and connects once a broker listens on
 * the port: one INFO with how long it waited, `reached` resolved, the `broker` events unreached then
 * back. A refused login still ends the wait at once; without `waitForBroker` the first failure
 * still rejects `startTwins`. Real sockets on port 0; the service's clock is a FakeScheduler.
 */
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { BrokerConnectError } from "../connection.js";
import { startTwins, type Twins } from "../service.js";
import { memoryStore } from "../store.js";
import { closedPort } from "./helpers.js";
import { brokerOn, cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly broker?: string;
  readonly waitedS?: number;
}

const DEBUG = 20;
const INFO = 30;
const WARN = 40;

/** A service that waits for the broker at `url`, with one stored twin, its log lines and `broker` events. */
async function waitingTwins(url: string, more: { password?: string; username?: string } = {}) {
  const sched = new FakeScheduler(0);
  const { logger, lines } = loggedLines<Line>("debug");
  const store = memoryStore({
    nodes: { "lamp-1": { sources: [NodeId("switch-7")], configVersion: 3, kind: "real", lastSeen: 0 } },
  });
  const twins: Twins = await startTwins({
    url,
    scheduler: sched,
    logger,
    store,
    waitForBroker: true,
    reconnectPeriodMs: 50,
    // Its probe's timers would run on the stepped clock without the echoes to answer them.
    probe: false,
    ...more,
  });
  cleanup.push(() => twins.close());
  const told: unknown[][] = [];
  twins.on("broker", (...args) => told.push(args));
  return { sched, lines, told, twins };
}

it("starts before its broker: serves its stored twins, warns once, reminds every 30 s, and connects once the broker listens", async () => {
  const port = await closedPort();
  const url = `mqtt://127.0.0.1:${port}`;
  const { sched, lines, told, twins } = await waitingTwins(url);
  // Returned at once, with the store's twins, before any attempt has been answered.
  expect(twins.list().map((t) => [t.id, t.desired.sources])).toEqual([["lamp-1", ["switch-7"]]]);
  expect(twins.waiting).toEqual({ broker: url, since: 0 });
  // Several attempts (one each 50 ms of wall time), one line.
  await when(
    () => lines.filter((l) => l.level === DEBUG && l.msg === "twins: broker connection error").length >= 4,
  );
  const warned = () => lines.filter((l) => l.level >= WARN);
  expect(warned().map((l) => [l.broker, l.msg])).toEqual([
    [
      url,
      `twins: cannot reach the broker at ${url}: connection refused; trying again every 0.1 s until it answers`,
    ],
  ]);
  expect(told).toEqual([[false, undefined, "unreached"]]);
  expect(twins.waiting).toEqual({
    broker: url,
    since: 0,
    cause: `cannot reach the broker at ${url}: connection refused`,
  });
  sched.advance(29_999);
  expect(warned()).toHaveLength(1);
  sched.advance(1);
  expect(warned()[1]?.msg).toBe(
    `twins: still waiting after 30 s: cannot reach the broker at ${url}: connection refused; trying again every 0.1 s until it answers`,
  );
  sched.advance(30_000);
  expect(warned().map((l) => l.waitedS)).toEqual([undefined, 30, 60]);
  sched.advance(1500);
  await brokerOn(cleanup, port);
  await twins.reached;
  expect(twins.waiting).toBeUndefined();
  const info = lines.filter((l) => l.level === INFO).map((l) => l.msg);
  expect(info).toEqual(["twins: connected and queried"]);
  expect(warned().at(-1)?.msg).toBe(`twins: reached the broker at ${url} after waiting 61.5 s`);
  expect(lines.find((l) => l.msg.startsWith("twins: reached"))?.waitedS).toBe(61.5);
  expect(told).toEqual([
    [false, undefined, "unreached"],
    [true, undefined, undefined],
  ]);
  // No reminder once connected, and the stored desire is still there.
  sched.advance(60_000);
  expect(warned()).toHaveLength(4);
  expect(twins.get("lamp-1")?.desired.sources).toEqual(["switch-7"]);
});

it("still ends the wait at once on a refused login: `reached` rejects, nothing more is tried", async () => {
  let attempts = 0;
  const { port } = await brokerOn(cleanup, 0, {
    options: {
      authenticate: (_client, _user, _password, done) => {
        attempts += 1;
        const err = Object.assign(new Error("bad user name or password"), { returnCode: 4 });
        done(err as never, false);
      },
    },
  });
  const url = `mqtt://127.0.0.1:${port}`;
  const { lines, told, twins } = await waitingTwins(url, { username: "ctl", password: "wr0ng-Pw" });
  const failure = await twins.reached.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(BrokerConnectError);
  expect(failure).toMatchObject({
    reason: "refused-login",
    message: `the broker at ${url} refused the connection: bad user name or password (check --username and --password)`,
  });
  expect(twins.waiting).toBeUndefined();
  expect(told).toEqual([]);
  expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
  // Ten reconnect periods later, still the one attempt.
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(attempts).toBe(1);
});

it("reaches a broker already listening at its first attempt, and says so to whoever read it as waiting", async () => {
  const { port } = await brokerOn(cleanup);
  const url = `mqtt://127.0.0.1:${port}`;
  const sched = new FakeScheduler(0);
  const twins: Twins = await startTwins({ url, scheduler: sched, waitForBroker: true, probe: false });
  cleanup.push(() => twins.close());
  // What a web page or a gauge opened with the service reads: connecting, not reached yet.
  expect(twins.waiting).toEqual({ broker: url, since: 0 });
  const told: unknown[][] = [];
  twins.on("broker", (...args) => told.push(args));
  await when(() => twins.waiting === undefined);
  expect(told).toEqual([[true, undefined, undefined]]);
});

it("without waitForBroker, the first failure still rejects startTwins", async () => {
  const port = await closedPort();
  const started = startTwins({ url: `mqtt://127.0.0.1:${port}`, scheduler: new FakeScheduler(0) });
  await expect(started).rejects.toMatchObject({
    reason: "unreachable",
    message: `cannot reach the broker at mqtt://127.0.0.1:${port}: connection refused`,
  });
});
