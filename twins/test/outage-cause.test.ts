/**
 * Why the reconnects of an outage fail: told once, at the first failed attempt, and again only when
 * the cause changes, and carried by what a command refused meanwhile says. The service said only
 * `broker connection lost, reconnecting` and logged each failed reconnect at debug level, so a broker
 * whose host name stopped resolving (`host not found`) or whose port refused looked, for as long as
 * it lasted, like any outage. A broker restarted into its open-files limit closes each reconnect at
 * once, which MQTT.js tells no error of: that said nothing at all. Real sockets on port 0; the
 * service's clock is a FakeScheduler.
 */
import { createServer } from "node:net";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { BrokerUnavailableError } from "../api.js";
import { startTwins } from "../service.js";
import { memoryStore } from "../store.js";
import { brokerOn, cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly broker?: string;
  readonly reason?: string;
}

const DEBUG = 20;
const WARN = 40;

/** A service reconnecting every 50 ms on a broker of its own, logging at debug, on a FakeScheduler. */
async function serviceOnBroker() {
  const broker = await brokerOn(cleanup);
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const sched = new FakeScheduler(0);
  const { logger, lines } = loggedLines<Line>("debug");
  const twins = await startTwins({
    url,
    scheduler: sched,
    logger,
    store: memoryStore(),
    reconnectPeriodMs: 50,
    probe: false,
  });
  cleanup.push(() => twins.close());
  return { broker, url, sched, lines, twins };
}

it("tells why its reconnects fail once, not at each attempt, and says it in a refused command", async () => {
  const { broker, url, sched, lines, twins } = await serviceOnBroker();
  await broker.kill();
  // Several failed reconnects (one each 50 ms of wall time).
  await when(
    () => lines.filter((l) => l.level === DEBUG && l.msg === "twins: broker connection error").length >= 4,
  );
  const warned = lines.filter((l) => l.level >= WARN).map((l) => l.msg);
  expect(warned.filter((m) => m !== "twins: broker connection error")).toEqual([
    "twins: broker connection lost, reconnecting",
    `twins: cannot reach the broker at ${url}: connection refused; trying again every 0.1 s until it answers`,
  ]);
  expect(lines.find((l) => l.msg.includes("connection refused; trying again"))).toMatchObject({
    broker: url,
    reason: "unreachable",
  });
  sched.advance(3000);
  const refused = await twins.set("lamp-1", true).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(BrokerUnavailableError);
  expect((refused as Error).message).toBe(
    `the broker at ${url} is not reachable (the connection was lost 3 s ago; reconnecting: cannot reach the broker at ${url}: connection refused): the set was not sent`,
  );
  // Back, at the outage's own level: a log kept at warn said it was lost and never that it was back.
  await brokerOn(cleanup, broker.port);
  await when(() => lines.some((l) => l.msg.startsWith("twins: broker connection back after")));
  expect(lines.find((l) => l.msg.startsWith("twins: broker connection back after"))).toMatchObject({
    level: WARN,
    msg: "twins: broker connection back after 3 s",
  });
});

it("tells a broker back that closes each reconnect at once (its open-files limit), once", async () => {
  const { broker, url, sched, lines, twins } = await serviceOnBroker();
  await broker.kill();
  // Started again at its limit: the operating system accepts each connection and closes it at once.
  let accepted = 0;
  const full = createServer((socket) => {
    accepted++;
    socket.on("error", () => {});
    socket.resume();
    socket.end();
  });
  await new Promise<void>((resolve) => full.listen(broker.port, "127.0.0.1", resolve));
  cleanup.unshift(() => new Promise((resolve) => full.close(resolve)));
  await when(() => accepted >= 4);
  const closed = `twins: cannot reach the broker at ${url}: it closed the connection at once, before its CONNACK (a broker at its open-files limit`;
  expect(lines.filter((l) => l.level === WARN && l.msg.startsWith(closed))).toHaveLength(1);
  sched.advance(3000);
  const refused = await twins.set("lamp-1", true).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((refused as Error).message).toContain(`reconnecting: ${closed.slice("twins: ".length)}`);
});
