/**
 * A twins service stopped (SIGSTOP, a paused VM) while it connects: the connection's timer runs out
 * when it runs again, before it could read the broker's answer. That is its own stall, not a broker
 * or a network that did not answer (docs/twins.md, "The service itself stopped"). Real sockets on
 * port 0: a server that holds the first connection unanswered (the service stopped before it read the
 * answer), then a broker; the service's clock is a FakeScheduler, jumped as a stopped host's is.
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { startTwins } from "../service.js";
import { when } from "./poll.js";

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly stalledS?: number;
}

/** A broker whose first `held` connections are left unanswered, then answered as aedes does. */
async function slowToAnswer(held: number): Promise<{ url: string; heldNow: () => number }> {
  const aedes = await Aedes.createBroker();
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    if (sockets.length < held) sockets.push(socket);
    else aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.unshift(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, heldNow: () => sockets.length };
}

async function twinsOn(url: string, sched: FakeScheduler, stalls: StallWatch) {
  const lines: Line[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
  const twins = await startTwins({
    url,
    scheduler: sched,
    stalls,
    logger,
    waitForBroker: true,
    connectTimeoutMs: 300,
    reconnectPeriodMs: 50,
    probe: false,
  });
  cleanup.push(() => twins.close());
  return { twins, warned: () => lines.filter((l) => l.level >= 40) };
}

it("stopped while it connects: its own stall, not the network's, and the wait's line says how much was", async () => {
  const broker = await slowToAnswer(1);
  const sched = new FakeScheduler(0);
  const stalls = new StallWatch(sched);
  const { twins, warned } = await twinsOn(broker.url, sched, stalls);
  await when(() => broker.heldNow() === 1);
  // The service did not run for 15 s while its first connection waited for the CONNACK.
  sched.jump(15_000);
  await twins.reached;
  expect(warned().map((l) => l.msg)).toEqual([
    `twins: no answer yet from the broker at ${broker.url}, but the service itself did not run for 14.8 s while it connected (its host stopped or paused it): its own stall, not the broker's or the network's; trying again every 0.1 s until it answers`,
    `twins: reached the broker at ${broker.url} after waiting 15 s, 14.8 s of it the service's own stall (its host stopped or paused it), not the broker's`,
  ]);
  expect(warned()[1]?.stalledS).toBe(14.8);
});

it("a broker that does not answer, with no stall, is told as before", async () => {
  const broker = await slowToAnswer(1);
  const sched = new FakeScheduler(0);
  const { twins, warned } = await twinsOn(broker.url, sched, new StallWatch(sched));
  await twins.reached;
  expect(warned().map((l) => l.msg)).toEqual([
    `twins: cannot reach the broker at ${broker.url}: no answer (CONNACK) within 300 ms; trying again every 0.1 s until it answers`,
    `twins: reached the broker at ${broker.url} after waiting 0 s`,
  ]);
});
