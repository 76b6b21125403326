/**
 * The broker starting on a Redis that answers, but too slowly for a step of the start to end in 5 s
 * (a big keyspace, many sessions to set up, a slow link). The start's wait told it as one that `has
 * not answered in 5 s`, and `/healthz` as `not answering`, while its replies came. Now both say that
 * Redis answers, slowly, and when it last did. Redis here is a TCP server that answers the start's
 * check, then on the store's connections answers PING (the broker's health check, every second) and
 * holds every other command unanswered, in order: a step that never ends while Redis answers. The
 * clock is a fake one.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { runBrokerCommand, type StartingBroker } from "../command.js";
import { REDIS_SLOW, StoreOpenWait, type WaitedStore } from "../store-open-wait.js";
import { keptLog, until } from "./start-wait.js";

const servers: { server: Server; sockets: Socket[] }[] = [];
afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

const INFO = "# Server\r\nredis_version:7.0.15\r\nloading:0\r\n";

/**
 * A Redis answering CLIENT, INFO and PING at once and in order; the first other command on a
 * connection holds it (its reply, and every later one there, never comes), as a step Redis is slow
 * to answer does. `pongs` counts the PINGs answered. Without `pings`, a PING past the start's check
 * (on the store's connections) holds it too, a Redis frozen once that check is over: `pings` counts those.
 */
async function slowRedis(
  pings = true,
): Promise<{ url: string; sockets: Socket[]; pongs: () => number; pings: () => number }> {
  const sockets: Socket[] = [];
  let pongs = 0;
  let pingsHeld = 0;
  const server = createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
    let held = false;
    const check = sockets.length === 1;
    s.on("data", (chunk: Buffer) => {
      const words = chunk.toString().split("\r\n");
      words.forEach((word, i) => {
        if (!/^\*\d+$/.test(word)) return;
        const command = words[i + 2]?.toLowerCase();
        if (command === "ping" && !pings && !check) pingsHeld++;
        if (held) return;
        if (command === "info") s.write(`$${Buffer.byteLength(INFO)}\r\n${INFO}\r\n`);
        else if (command === "ping" && (pings || check)) {
          pongs++;
          s.write("+PONG\r\n");
        } else if (command === "client") s.write("+OK\r\n");
        else held = true;
      });
    });
  });
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `redis://127.0.0.1:${port}`, sockets, pongs: () => pongs, pings: () => pingsHeld };
}

it("tells a Redis that answers slowly as slow, not as silent, in the log and to --http", async () => {
  const redis = await slowRedis();
  const { lines, logger } = keptLog();
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  let starting: StartingBroker | undefined;
  let ended = false;
  const done = runBrokerCommand(
    { host: "127.0.0.1", port: "0", redis: redis.url },
    {
      logger,
      scheduler: sched,
      http: async (s) => {
        starting = s;
        return { started: () => {}, close: async () => {} };
      },
    },
  ).finally(() => {
    ended = true;
  });
  await until(() => redis.sockets.length >= 4, "the store's connections made");
  const step = "setting up its sessions and subscriptions over the store, publish and subscribe connections";
  // A second at a time, each second's PINGs answered before the next: Redis answers throughout.
  for (let i = 0; i < 5; i++) {
    const pongs = redis.pongs();
    sched.advance(1000);
    await until(() => redis.pongs() > pongs, "a PING answered");
    await hostTurn();
  }
  const said = (text: string) => lines.filter((l) => l.msg.includes(text)).map((l) => l.msg);
  expect(said("broker: Redis at")).toHaveLength(1);
  // Its last answer came within the last second or two, as the host ran the replies.
  expect(said("broker: Redis at")[0]).toMatch(
    new RegExp(
      `^broker: Redis at ${redis.url} answers, slowly: the start has not finished in 5 s \\(${step}, since ` +
        "2026-01-01T00:00:00.000Z; its last answer [0-2] s ago\\): it may hold many sessions, subscriptions or " +
        "retained messages to set up, be loaded by other work, or be reached over a slow link: check its " +
        "latency \\(redis-cli --latency\\) and its load; the broker starts once it has, and a stop \\(SIGTERM, " +
        "Ctrl-C\\) ends the wait at once$",
    ),
  );
  expect(starting?.problem()).toMatch(
    new RegExp(
      `^the start waits for Redis at ${redis.url}, which answers, slowly \\(${step}\\), not finished after 5 s, its last answer [0-2] s ago`,
    ),
  );
  process.emit("SIGTERM", "SIGTERM");
  await until(() => ended, "the start ended by the stop");
  await done;
  // The stop's line judges it as the wait's did: it said `it waited 5 s for Redis … to answer`.
  expect(said("SIGTERM: the broker stops without starting")).toEqual([
    expect.stringMatching(
      new RegExp(
        `^SIGTERM: the broker stops without starting; it waited 5 s for Redis at ${redis.url}, which answered, ` +
          `slowly \\(${step}\\), its last answer [0-2] s before the stop$`,
      ),
    ),
  ]);
  await until(() => redis.sockets.every((s) => s.closed), "the connections closed");
});

it("sends the broker's health PINGs on the command's clock", async () => {
  // They ran on real time beside a start's wait on the caller's clock: a slow Redis's PINGs came each
  // real second, and a frozen one was told silent 5 real seconds in, whatever the clock said.
  const redis = await slowRedis(false);
  const { lines, logger } = keptLog();
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  let ended = false;
  const done = runBrokerCommand(
    { host: "127.0.0.1", port: "0", redis: redis.url },
    { logger, scheduler: sched },
  ).finally(() => {
    ended = true;
  });
  await until(() => redis.sockets.length >= 4, "the store's connections made");
  // The first check's PINGs, one on each of the store's connections, sent once each is ready.
  sched.advance(1000);
  await until(() => redis.pings() >= 3, "a PING on each of the store's connections");
  sched.advance(5000);
  // Told within the advance itself: no real time passed for it.
  const silent = lines.filter((l) => l.msg.startsWith(`Redis at ${redis.url} has not answered for 5 s;`));
  expect(silent).toHaveLength(1);
  expect(silent[0]?.level).toBe(50);
  process.emit("SIGTERM", "SIGTERM");
  await until(() => ended, "the start ended by the stop");
  await done;
  await until(() => redis.sockets.every((s) => s.closed), "the connections closed");
});

it("tells a stop of a start whose store's answers stopped as silent since its last answer", () => {
  const { lines, logger } = keptLog();
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  const wait = new StoreOpenWait(sched, logger);
  let answered: (() => void) | undefined;
  const onAnswer = (a: () => void) => {
    answered = a;
  };
  wait.step(
    {
      where: "Redis at redis://r:1",
      article: false,
      why: "why",
      cancel: () => {},
      answers: { onAnswer, slowWhy: "slow" },
    },
    "a step",
  );
  sched.advance(1000);
  answered?.();
  sched.advance(7000);
  expect(wait.stop("SIGTERM")).toBe(true);
  expect(lines.at(-1)?.msg).toBe(
    "SIGTERM: the broker stops without starting; it waited 8 s for Redis at redis://r:1 to answer (a step), not answering for 7 s",
  );
});

it("tells a store whose answers stopped as silent since its last answer, and its end as the steps answered", () => {
  const { lines, logger } = keptLog();
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  const wait = new StoreOpenWait(sched, logger);
  let answered: (() => void) | undefined;
  const store: WaitedStore = {
    where: "Redis at redis://r:1",
    article: false,
    why: "why",
    cancel: () => {},
    answers: {
      onAnswer: (a) => {
        answered = a;
      },
      slowWhy: REDIS_SLOW,
    },
  };
  wait.step(store, "a step");
  // Answers at 1 s and 2 s, then none.
  for (let i = 0; i < 2; i++) {
    sched.advance(1000);
    answered?.();
  }
  sched.advance(3000);
  expect(wait.problem).toMatch(
    /, which answers, slowly \(a step\), not finished after 5 s, its last answer 3 s ago: it may/,
  );
  sched.advance(3000);
  expect(wait.problem).toBe(
    "the start waits for Redis at redis://r:1 to answer (a step), not answering for 6 s (the start waiting 8 s): why",
  );
  sched.advance(27_000);
  // Its answers stopped: told when they have for 5 s (at 7 s), then at 35 s.
  expect(lines.map((l) => l.msg)).toEqual([
    expect.stringMatching(
      /^broker: Redis at redis:\/\/r:1 answers, slowly: the start has not finished in 5 s \(a step, since 2026-01-01T00:00:00.000Z; its last answer 3 s ago\)/,
    ),
    expect.stringMatching(
      /^broker: Redis at redis:\/\/r:1 has not answered in 5 s \(a step; the start waiting 7 s, since 2026-01-01T00:00:00.000Z\): why; the broker starts once it does/,
    ),
    expect.stringMatching(
      /^broker: Redis at redis:\/\/r:1 has not answered in 33 s \(a step; the start waiting 35 s, since 2026-01-01T00:00:00.000Z\): why; the broker starts once it does/,
    ),
  ]);
  answered?.();
  wait.done();
  expect(lines.at(-1)?.msg).toBe(
    "broker: Redis at redis://r:1 answered the start's steps in 35 s: the broker starts",
  );
});
