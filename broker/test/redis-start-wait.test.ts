/**
 * The broker starting on a Redis that takes the connection and never answers (stopped by kill -STOP,
 * a paused container, another service on that port): the start's check (INFO, PING) waits with no
 * timeout. Before, the start sat without a line, `--http`'s `/healthz` said only "its store is not
 * open yet", a SIGTERM was not told and did not end the wait. Now the wait is told after 5 s naming
 * Redis, `/healthz` names it with how long, and a stop ends it at once: the broker starts nothing.
 * Redis is a TCP server here that accepts and answers nothing, as a stopped one does; the clock is
 * a fake one. A Redis frozen just after that check (answering it, then not the store's connections)
 * held the start silent again, at aedes's set-up: that wait is told and ended the same way.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { runBrokerCommand, type StartingBroker } from "../command.js";
import { keptLog, until } from "./start-wait.js";

const servers: { server: Server; sockets: Socket[] }[] = [];
afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A Redis's answers to the start check's commands: CLIENT SETINFO, INFO (not loading its data), PING. */
function answerCheck(s: Socket): void {
  s.on("data", (chunk: Buffer) => {
    const words = chunk.toString().split("\r\n");
    words.forEach((word, i) => {
      if (!/^\*\d+$/.test(word)) return;
      const command = words[i + 2]?.toLowerCase();
      const info = "# Server\r\nredis_version:7.0.15\r\nloading:0\r\n";
      if (command === "info") s.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
      else s.write(command === "ping" ? "+PONG\r\n" : "+OK\r\n");
    });
  });
}

/**
 * A "Redis" that takes connections and says nothing, as a stopped one does; or, `answered` > 0, that
 * answers that many first connections (the start's check) and then stops so.
 */
async function silentRedis(answered = 0): Promise<{ url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
    if (sockets.length <= answered) return answerCheck(s);
    // Read and dropped: what a stopped Redis's kernel does with the bytes (they wait unread).
    s.resume();
  });
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `redis://127.0.0.1:${port}`, sockets };
}

/**
 * The broker's start on the Redis at `url`, its log kept and its clock a fake one at 2026-01-01: what
 * --http's /healthz would say (`problem()`), whether it listened, and whether the start has ended.
 */
function startOn(url: string) {
  const { lines, logger } = keptLog();
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  let starting: StartingBroker | undefined;
  let listened = false;
  let ended = false;
  const done = runBrokerCommand(
    { host: "127.0.0.1", port: "0", redis: url },
    {
      logger,
      scheduler: sched,
      http: async (s) => {
        starting = s;
        return { started: () => {}, close: async () => {} };
      },
      onListening: () => {
        listened = true;
      },
    },
  ).finally(() => {
    ended = true;
  });
  return {
    lines,
    sched,
    done,
    problem: () => starting?.problem(),
    listened: () => listened,
    ended: () => ended,
  };
}

it("tells the wait for a Redis that does not answer, names it to --http, and a stop ends it at once", async () => {
  const redis = await silentRedis();
  const { lines, sched, done, problem, listened, ended } = startOn(redis.url);
  await until(() => redis.sockets.length > 0, "the start's check connected");
  const said = (text: string) => lines.filter((l) => l.msg.includes(text)).map((l) => l.msg);
  expect(problem()).toBeUndefined();
  for (let i = 0; i < 5; i++) {
    sched.advance(1000);
    await hostTurn();
  }
  expect(said("has not answered")).toEqual([
    `broker: Redis at ${redis.url} has not answered in 5 s (connecting and checking that it answers: INFO, ` +
      "PING, since 2026-01-01T00:00:00.000Z): check that the Redis server is running and not stopped " +
      "(kill -STOP, a paused container), swapping or loading its data, and that --redis names a Redis " +
      "server; the broker starts once it does, and a stop (SIGTERM, Ctrl-C) ends the wait at once",
  ]);
  // What --http's /healthz answers 503 with (web/broker-server.ts).
  expect(problem()).toBe(
    `the start waits for Redis at ${redis.url} to answer (connecting and checking that it answers: INFO, ` +
      "PING), not answering for 5 s: check that the Redis server is running and not stopped (kill -STOP, " +
      "a paused container), swapping or loading its data, and that --redis names a Redis server",
  );
  sched.advance(2000);
  process.emit("SIGTERM", "SIGTERM");
  await until(ended, "the start ended by the stop");
  await done;
  expect(lines.filter((l) => l.msg.startsWith("SIGTERM")).map((l) => l.msg)).toEqual([
    `SIGTERM: the broker stops without starting; it waited 7 s for Redis at ${redis.url} to answer ` +
      "(connecting and checking that it answers: INFO, PING)",
    "SIGTERM while the broker was starting: it stops without starting",
  ]);
  expect(listened()).toBe(false);
  expect(said("listening")).toEqual([]);
  // The start's connection is dropped, not left to a Redis that may never say goodbye.
  await until(() => redis.sockets.every((s) => s.closed), "the connection closed");
});

it("tells the wait for a Redis frozen just after the start's check, names the step, and a stop ends it", async () => {
  const redis = await silentRedis(1);
  const { lines, sched, done, problem, listened, ended } = startOn(redis.url);
  // The check's connection, then the store's, publish and subscribe ones, each asking INFO.
  await until(
    () => redis.sockets.length >= 4 && redis.sockets.every((s) => s.bytesRead > 0),
    "the store's connections made",
  );
  const step = "setting up its sessions and subscriptions over the store, publish and subscribe connections";
  for (let i = 0; i < 5; i++) {
    sched.advance(1000);
    await hostTurn();
  }
  const said = (text: string) => lines.filter((l) => l.msg.includes(text)).map((l) => l.msg);
  expect(said("has not answered in")).toEqual([
    `broker: Redis at ${redis.url} has not answered in 5 s (${step}, since 2026-01-01T00:00:00.000Z): ` +
      "check that the Redis server is running and not stopped (kill -STOP, a paused container), swapping " +
      "or loading its data, and that --redis names a Redis server; the broker starts once it does, and a " +
      "stop (SIGTERM, Ctrl-C) ends the wait at once",
  ]);
  expect(problem()).toMatch(
    `the start waits for Redis at ${redis.url} to answer (${step}), not answering for 5 s`,
  );
  process.emit("SIGTERM", "SIGTERM");
  await until(ended, "the start ended by the stop");
  await done;
  expect(lines.filter((l) => l.msg.startsWith("SIGTERM")).map((l) => l.msg)).toEqual([
    `SIGTERM: the broker stops without starting; it waited 5 s for Redis at ${redis.url} to answer (${step})`,
    "SIGTERM while the broker was starting: it stops without starting",
  ]);
  expect(listened()).toBe(false);
  // Every connection is dropped, none left waiting on a Redis that may never say goodbye.
  await until(() => redis.sockets.every((s) => s.closed), "the connections closed");
});
