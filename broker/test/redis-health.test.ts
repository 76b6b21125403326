/**
 * The Redis health check on virtual time: connections whose PINGs go unanswered (a frozen Redis)
 * make one ERROR after 5 s and one line with the silence's length when they answer again; a Redis
 * that answers makes none, an error reply counts as an answer, and no PING piles up behind another.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { type PingableConnection, RedisHealth } from "../redis-health.js";

type LogLine = { level: number; msg: string; connections?: string[]; silentMs?: number };
const ERROR = 50;
const WARN = 40;

/** A connection that answers its PINGs at once, or holds them while frozen. */
class FakeConnection implements PingableConnection {
  frozen = false;
  sent = 0;
  status = "ready";
  private held: (() => void)[] = [];
  reply: () => Promise<unknown> = () => Promise.resolve("PONG");

  ping(): Promise<unknown> {
    this.sent++;
    if (!this.frozen) return this.reply();
    return new Promise((resolve) => this.held.push(() => resolve("PONG")));
  }

  thaw(): void {
    this.frozen = false;
    for (const answer of this.held.splice(0)) answer();
  }
}

function setup() {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const sched = new FakeScheduler();
  const store = new FakeConnection();
  const subscribe = new FakeConnection();
  const health = new RedisHealth("Redis at redis://127.0.0.1:6379/", { store, subscribe }, sched, logger);
  /** Advances virtual time a second at a time, letting the PINGs' answers through in between. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      sched.advance(100);
      await hostTurn();
    }
  };
  return { lines, sched, store, subscribe, health, run };
}

it("logs one ERROR after 5 s of silence and one line with its length when Redis answers again", async () => {
  const { lines, store, subscribe, health, run } = setup();
  await run(3_000);
  expect(lines).toEqual([]);
  store.frozen = true;
  subscribe.frozen = true;
  await run(4_900);
  expect(lines).toEqual([]);
  expect(health.up).toBe(true);
  await run(1_000);
  const errors = lines.filter((l) => l.level === ERROR);
  expect(errors).toHaveLength(1);
  expect(errors[0]?.msg).toMatch(
    /^Redis at redis:\/\/127\.0\.0\.1:6379\/ has not answered for 5 s; the broker keeps its clients connected, but .* no client can connect.*: check that the Redis server is running/,
  );
  expect(errors[0]?.connections).toEqual(["store", "subscribe"]);
  expect(health.up).toBe(false);
  // One PING each while frozen: none piles up behind it.
  const sent = store.sent;
  await run(20_000);
  expect(store.sent).toBe(sent);
  expect(lines.filter((l) => l.level === ERROR)).toHaveLength(1);
  store.thaw();
  subscribe.thaw();
  await run(100);
  const back = lines.filter((l) => l.level === WARN);
  expect(back).toHaveLength(1);
  expect(back[0]?.msg).toMatch(
    /^Redis at redis:\/\/127\.0\.0\.1:6379\/ answers again after 2[56]\.\d s of silence/,
  );
  expect(back[0]?.silentMs).toBeGreaterThanOrEqual(25_000);
  expect(health.up).toBe(true);
  health.stop();
});

it("says nothing while Redis answers, an error reply included, and nothing once stopped", async () => {
  const { lines, store, subscribe, health, run } = setup();
  store.reply = () =>
    Promise.reject(Object.assign(new Error("LOADING Redis is loading"), { name: "ReplyError" }));
  await run(30_000);
  expect(lines).toEqual([]);
  expect(store.sent).toBeGreaterThanOrEqual(29);
  health.stop();
  subscribe.frozen = true;
  await run(30_000);
  expect(lines).toEqual([]);
});

it("names only the silent connection", async () => {
  const { lines, subscribe, health, run } = setup();
  subscribe.frozen = true;
  await run(6_000);
  expect(lines.filter((l) => l.level === ERROR).map((l) => l.connections)).toEqual([["subscribe"]]);
  subscribe.thaw();
  await run(100);
  // Silent since the check began (its first PING went unanswered); the answer is seen 100 ms on.
  expect(lines.filter((l) => l.level === WARN).map((l) => l.silentMs)).toEqual([6_100]);
  health.stop();
});

it("names every connection not answering, though their last answers came a check apart", async () => {
  const { lines, store, subscribe, health, run } = setup();
  await run(3_100);
  // Redis frozen between two answers: the subscribe connection's last came at 3 s, the store's at 4 s
  // (on a busy host an answer due just after a check comes up to a check later).
  subscribe.frozen = true;
  await run(1_000);
  store.frozen = true;
  await run(3_800);
  expect(lines).toEqual([]);
  await run(100);
  const errors = lines.filter((l) => l.level === ERROR);
  // Told when the first has been silent 5 s; the other, silent 4 s, with its PING unanswered.
  expect(errors.map((l) => l.connections)).toEqual([["store", "subscribe"]]);
  expect(errors.map((l) => l.silentMs)).toEqual([5_000]);
  health.stop();
});

it("leaves a connection that is down to the connections' own watch: its silence counts once it is up", async () => {
  const { lines, store, subscribe, health, run } = setup();
  // Redis killed: the connections reconnect, their PINGs held in ioredis's offline queue.
  store.status = "reconnecting";
  subscribe.status = "reconnecting";
  store.frozen = true;
  subscribe.frozen = true;
  await run(20_000);
  expect(lines).toEqual([]);
  // Back up, and the held PINGs answered: nothing to tell.
  store.status = "ready";
  subscribe.status = "ready";
  store.thaw();
  subscribe.thaw();
  await run(3_000);
  expect(lines).toEqual([]);
  // Up but not answering: told after 5 s as ever.
  store.frozen = true;
  await run(6_000);
  expect(lines.filter((l) => l.level === ERROR).map((l) => l.connections)).toEqual([["store"]]);
  health.stop();
});

it("says what is wrong for /healthz: how long Redis has been silent, or which connection is down", async () => {
  const { store, subscribe, health, run } = setup();
  await run(2_000);
  expect(health.problem()).toBeUndefined();
  subscribe.status = "reconnecting";
  expect(health.problem()).toBe(
    "Redis at redis://127.0.0.1:6379/: connection subscribe is down (reconnecting)",
  );
  subscribe.status = "ready";
  store.frozen = true;
  await run(7_000);
  expect(health.problem()).toBe("Redis at redis://127.0.0.1:6379/ has not answered for 7 s");
  store.thaw();
  await run(100);
  expect(health.problem()).toBeUndefined();
  health.stop();
});
