/**
 * A member of a Redis cluster that (re)starts is known alive to the others from its start
 * (broker/member-beats.ts, announceAlive). Aedes sends its first heartbeat only 60 s after its start,
 * and another member's will clean-up (every 4 heartbeats) publishes and deletes the wills of every
 * broker it has not heard one from: a member restarted within a minute before that clean-up had its
 * live clients' wills published (`T1 0` retained for connected nodes) and deleted, so those nodes'
 * later deaths were never told. Two brokers share one emitter here, as members share Redis's.
 */
import { Aedes, type PublishPacket } from "aedes";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import mqemitter from "mqemitter";
import pino from "pino";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { watchMembers } from "../member-beats.js";
import type { WillStore } from "../stale-wills.js";

const HEARTBEAT_MS = 60_000;

let first: Aedes;
let restarted: Aedes | undefined;
let persistence: InstanceType<typeof MemoryPersistence>;
let published: string[];
let stopWatch: (() => void) | undefined;
/** The emitter the two members share, as members share Redis's pub/sub. */
let mq: ReturnType<typeof mqemitter>;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "performance"] });
  persistence = new MemoryPersistence();
  mq = mqemitter();
  first = await Aedes.createBroker({
    persistence: persistence as never,
    mq,
    heartbeatInterval: HEARTBEAT_MS,
  });
  published = [];
  await new Promise<void>((resolve) =>
    first.subscribe(
      "tf/status/+",
      (packet: PublishPacket, cb: () => void) => {
        published.push(`${packet.topic} ${packet.payload.toString()}`);
        cb();
      },
      resolve,
    ),
  );
});

afterEach(async () => {
  stopWatch?.();
  stopWatch = undefined;
  for (const b of [restarted, first]) if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
  restarted = undefined;
  vi.useRealTimers();
});

/** The restarted member, `atMs` into the first one's run, with a client connected to it holding a will. */
async function restartMemberAt(atMs: number, watch: boolean): Promise<void> {
  await vi.advanceTimersByTimeAsync(atMs);
  restarted = await Aedes.createBroker({
    persistence: new MemoryPersistence() as never,
    mq,
    heartbeatInterval: HEARTBEAT_MS,
  });
  if (watch)
    stopWatch = watchMembers(
      restarted,
      persistence as unknown as WillStore,
      new FakeScheduler(),
      pino({ level: "silent" }),
    ).stop;
  // Its client's will, in the store both members share, under its id.
  const store = persistence as unknown as {
    putWill(client: { id: string }, packet: object): Promise<void>;
    getWill(client: { id: string }): Promise<{ brokerId: string }>;
  };
  await store.putWill(
    { id: "n1" },
    { cmd: "publish", topic: "tf/status/n1", payload: Buffer.from("T1 0"), qos: 1, retain: true, dup: false },
  );
  (await store.getWill({ id: "n1" })).brokerId = restarted.id;
}

it("a member started 40 s before another's will clean-up: its live client's will is neither published nor deleted", async () => {
  await restartMemberAt(200_000, true);
  await vi.advanceTimersByTimeAsync(41_000); // the first member's clean-up, at 240 s
  expect(published).toEqual([]);
  const left = await (persistence as unknown as { getWill(c: { id: string }): Promise<unknown> }).getWill({
    id: "n1",
  });
  expect(left).not.toBeNull();
});

it("without the start's heartbeat aedes takes that member for dead (what the watch's announce prevents)", async () => {
  await restartMemberAt(200_000, false);
  await vi.advanceTimersByTimeAsync(41_000);
  expect(published).toEqual(["tf/status/n1 T1 0"]);
});
