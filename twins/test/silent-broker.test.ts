/**
 * The twins service probes its broker on its own connection: a broker frozen with its sockets open
 * (here a proxy that stops passing bytes) is told silent after 5 s on the service's clock — one
 * WARN naming the broker, a `broker` event, the nodes left as they were — and heard again with its
 * next packet, the outage's length logged. A broker whose access rules refuse the probe's topic is
 * never told silent. Real sockets to a broker on port 0; the service's clock is a FakeScheduler
 * stepped by the test.
 */
import type { AedesOptions } from "aedes";
import { pino } from "pino";
import { expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { startTwins, type Twins } from "../service.js";
import { freezableProxy } from "./freezable-proxy.js";
import { startNode } from "./helpers.js";
import { brokerOn, cleanupAfterEach, loggedLines } from "./own-broker.js";
import { answeredStep, when } from "./poll.js";

const cleanup = cleanupAfterEach();

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly broker?: string;
  readonly silentS?: number;
  readonly outageS?: number;
}

/** A twins service on `url` on a stepped clock, with its log lines and `broker` events. */
async function twinsOn(url: string) {
  const sched = new FakeScheduler(0);
  const { logger, lines } = loggedLines<Line>("info");
  const twins: Twins = await startTwins({ url, scheduler: sched, logger });
  cleanup.push(() => twins.close());
  const told: unknown[][] = [];
  twins.on("broker", (...args) => told.push(args));
  return { sched, lines, told, twins };
}

const WARN = 40;

it("tells a broker frozen with its sockets open silent after 5 s, keeps the nodes as they were, and logs its return with the outage's length", async () => {
  const broker = await startBroker({ host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
  cleanup.push(() => broker.close());
  const node = await startNode(broker.url, "n-1");
  cleanup.push(() => node.stop());
  const proxy = await freezableProxy(broker.port);
  cleanup.push(() => proxy.close());
  const { sched, lines, told, twins } = await twinsOn(proxy.url);
  await when(() => twins.get("n-1")?.presence === "online");
  for (let i = 0; i < 16; i += 1) await answeredStep(proxy, sched);
  expect(told).toEqual([]);
  const lastAnswer = sched.now();
  proxy.freeze();
  for (let i = 0; i < 9; i += 1) sched.advance(500);
  expect(told).toEqual([]); // 4.5 s of silence: not yet
  sched.advance(500);
  sched.advance(500);
  expect(told).toHaveLength(1);
  const [connected, lastHeardAt, how] = told[0] as [boolean, number, string];
  expect([connected, how]).toEqual([false, "silent"]);
  expect(lastHeardAt).toBeLessThanOrEqual(lastAnswer);
  expect(lastHeardAt).toBeGreaterThanOrEqual(lastAnswer - 500);
  const warned = lines.filter((l) => l.level === WARN);
  expect(warned).toHaveLength(1);
  expect(warned[0]?.broker).toBe(proxy.url);
  expect(warned[0]?.msg).toMatch(
    new RegExp(`^twins: the broker at ${proxy.url} has been silent for 5(\\.\\d)? s with the connection up`),
  );
  // Its own view lost is no node gone: n-1 stays as last heard.
  for (let i = 0; i < 10; i += 1) sched.advance(500);
  expect(twins.get("n-1")?.presence).toBe("online");
  expect(lines.filter((l) => l.level === WARN)).toHaveLength(1);
  proxy.thaw();
  await when(() => told.length === 2);
  expect(told[1]).toEqual([true, undefined, undefined]);
  const back = lines.find((l) => l.msg.includes("answers again"));
  expect(back?.outageS).toBe((sched.now() - lastHeardAt) / 1000);
  expect(back?.msg).toBe(
    `twins: the broker at ${proxy.url} answers again after ${back?.outageS} s of silence`,
  );
  // At the level the silence was told at: a log kept at warn says the broker is back.
  expect(back?.level).toBe(WARN);
});

/** A twins service on a plain aedes with `options` (its access hooks). */
async function twinsOnAedes(options: AedesOptions) {
  return twinsOn((await brokerOn(cleanup, 0, { options })).url);
}

it("never tells a broker silent whose access rules refuse the probe's topic, and says so once", async () => {
  const { sched, lines, told } = await twinsOnAedes({
    authorizeSubscribe: (_client, sub, done) => done(null, sub.topic.includes("/twins-probe/") ? null : sub),
  });
  await when(() => lines.some((l) => l.level === WARN));
  const refused = lines.filter((l) => l.level === WARN);
  expect(refused.map((l) => l.msg)).toEqual([
    expect.stringMatching(
      /^twins: the broker refused the twins service's probe subscription to tf\/twins-probe\/tf-twins-[0-9a-f]{8}: a frozen broker is told only when its keepalive runs out/,
    ),
  ]);
  for (let i = 0; i < 40; i += 1) sched.advance(500);
  expect(told).toEqual([]);
  expect(lines.filter((l) => l.level === WARN)).toHaveLength(1);
});

it("never tells a broker silent that grants the probe's topic and delivers nothing on it, and says so after 10 s", async () => {
  const { sched, lines, told } = await twinsOnAedes({
    authorizeForward: (_client, packet) => (packet.topic.includes("/twins-probe/") ? null : packet),
  });
  for (let i = 0; i < 19; i += 1) sched.advance(500);
  expect(lines.filter((l) => l.level === WARN)).toEqual([]);
  sched.advance(500);
  expect(lines.filter((l) => l.level === WARN).map((l) => l.msg)).toEqual([
    expect.stringMatching(
      /^twins: the twins service's probe on tf\/twins-probe\/\S+ has not come back in 10 s/,
    ),
  ]);
  for (let i = 0; i < 40; i += 1) sched.advance(500);
  expect(told).toEqual([]);
});
