/**
 * Brokers sharing a store (`--redis`) tell each other they are alive with heartbeats (aedes's
 * `heartbeatInterval`, 60 s); at its will clean-up (every 4 heartbeats) a broker publishes the
 * stored wills of every broker it has not heard from in 3 heartbeats. How long ago it heard is a
 * duration: measured on the host's date (patched in patches/aedes+1.2.0.patch), a step of that
 * date (NTP setting a clock that booted wrong, an operator putting back one that ran ahead) made a
 * broker whose date jumped ahead take every other broker for dead and publish the wills of their
 * live clients — each node shown offline by the twins until it next spoke, and its stored will
 * deleted — and one whose date was put back an hour keep the wills of a dead broker's clients for
 * an hour. Here the date steps and the monotonic clock does not, as on a real host.
 */
import { Aedes, type PublishPacket } from "aedes";
import MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import { afterEach, beforeEach, expect, it, vi } from "vitest";

const HEARTBEAT_MS = 60_000;
const HOUR_MS = 3_600_000;
/** The other broker, which shares the store: its clients' wills are in it under its id. */
const OTHER = "other-broker";

let aedes: Aedes;
let published: string[];

beforeEach(async () => {
  // The date (Date) and the monotonic clock (performance.now) are faked apart: setSystemTime steps
  // the date alone, as a step of the host's clock does.
  vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date", "performance"] });
  const persistence = new MemoryPersistence();
  aedes = await Aedes.createBroker({ persistence: persistence as never, heartbeatInterval: HEARTBEAT_MS });
  published = [];
  await new Promise<void>((resolve) =>
    aedes.subscribe(
      "tf/status/+",
      (packet: PublishPacket, cb: () => void) => {
        published.push(`${packet.topic} ${packet.payload.toString()}`);
        cb();
      },
      resolve,
    ),
  );
  // A client of the other broker, connected there: its will is in the shared store.
  const store = persistence as unknown as {
    putWill(client: { id: string }, packet: object): Promise<void>;
    getWill(client: { id: string }): Promise<{ brokerId: string }>;
  };
  await store.putWill(
    { id: "n1" },
    { cmd: "publish", topic: "tf/status/n1", payload: Buffer.from("T1 0"), qos: 1, retain: true, dup: false },
  );
  (await store.getWill({ id: "n1" })).brokerId = OTHER;
});

afterEach(async () => {
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  vi.useRealTimers();
});

/** The other broker's heartbeat, as it arrives through the shared emitter. */
async function heartbeatOfOther(): Promise<void> {
  await new Promise<void>((resolve) =>
    aedes.publish(
      {
        cmd: "publish",
        topic: `$SYS/${OTHER}/heartbeat`,
        payload: Buffer.from(OTHER),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => resolve(),
    ),
  );
}

/** Advances the fake clocks to `ms` after the broker started, the other broker beating at `beats`. */
async function runTo(fromMs: number, toMs: number, beats: readonly number[]): Promise<void> {
  let at = fromMs;
  for (const beat of beats.filter((b) => b > fromMs && b <= toMs)) {
    await vi.advanceTimersByTimeAsync(beat - at);
    await heartbeatOfOther();
    at = beat;
  }
  await vi.advanceTimersByTimeAsync(toMs - at);
}

it("a date stepped an hour ahead does not take a live broker for dead: none of its clients' wills is published", async () => {
  const beats = [20_000, 80_000, 140_000, 200_000, 260_000, 320_000, 380_000, 440_000, 500_000];
  await runTo(0, 220_000, beats);
  vi.setSystemTime(Date.now() + HOUR_MS);
  // The clean-ups at 240 s (20 s after the step, before the other's next heartbeat) and 480 s.
  await runTo(220_000, 500_000, beats);
  expect(published).toEqual([]);
});

it("a date put back an hour still publishes the wills of a broker gone silent, 3 heartbeats on", async () => {
  await runTo(0, 30_000, [20_000]); // its last heartbeat, at 20 s
  vi.setSystemTime(Date.now() - HOUR_MS);
  await runTo(30_000, 240_000, []); // the first clean-up: 220 s since it was last heard
  expect(published).toEqual(["tf/status/n1 T1 0"]);
});
