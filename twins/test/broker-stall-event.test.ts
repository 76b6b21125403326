/**
 * A twins service that itself did not run for a while (SIGSTOP, a paused VM) finds its connection
 * cut when it runs again (the broker's keepalive ran out meanwhile): the connection was lost, and the
 * `broker` event says so, with the service's own stall as its cause, lost and back; a broker that
 * stays away well beyond the stall is an outage of its own, back with no stall. Real sockets on
 * port 0, the service's clock a FakeScheduler jumped as a stopped host's is (docs/twins.md, "The
 * service itself stopped").
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { startTwins } from "../service.js";
import { cleanupAfterEach } from "./own-broker.js";
import { when } from "./poll.js";

const cleanup = cleanupAfterEach();

/** A broker whose connections can be cut (`cut`), and new ones refused while `refusing`. */
async function cuttableBroker() {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const state = { refusing: false };
  const server: Server = createServer((socket) => {
    if (state.refusing) return void socket.destroy();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.unshift(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, cut, state };
}

async function stoppable() {
  const broker = await cuttableBroker();
  const sched = new FakeScheduler(0);
  const msgs: string[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => msgs.push(JSON.parse(s).msg) });
  const twins = await startTwins({
    url: broker.url,
    scheduler: sched,
    stalls: new StallWatch(sched),
    logger,
    reconnectPeriodMs: 50,
    probe: false,
  });
  cleanup.push(() => twins.close());
  const told: unknown[][] = [];
  twins.on("broker", (...args) => told.push(args));
  return { broker, sched, twins, told, msgs };
}

it("the connection lost in the service's own stall: the event tells the stall, lost and back", async () => {
  const { broker, sched, told, msgs } = await stoppable();
  sched.advance(10_000);
  // Stopped 25 s; the broker cut it meanwhile: the service finds its socket closed when it runs again.
  sched.jump(25_000);
  broker.cut();
  await when(() => told.length === 2);
  const stall = { startMs: 10_250, endMs: 35_000 };
  expect(told).toEqual([
    [false, expect.any(Number), "lost", stall],
    [true, undefined, undefined, stall],
  ]);
  expect(msgs.at(-1)).toMatch(
    /^twins: broker connection back after .*; the service itself did not run for 24\.8 s/,
  );
});

it("a broker away well beyond the stall is an outage of its own: back with no stall, and said so", async () => {
  const { broker, sched, told, msgs } = await stoppable();
  sched.advance(10_000);
  sched.jump(25_000);
  broker.state.refusing = true;
  broker.cut();
  await when(() => told.length === 1);
  expect(told[0]?.[3]).toEqual({ startMs: 10_250, endMs: 35_000 });
  sched.advance(15_000);
  broker.state.refusing = false;
  await when(() => told.length === 2);
  expect(told[1]).toEqual([true, undefined, undefined]);
  expect(msgs.at(-1)).toMatch(
    /^twins: broker connection back after [\d.]+ s: lost while the service itself did not run \(24\.8 s\), but away longer than its stall explains: the broker, or the path to it, was away too$/,
  );
});
