/**
 * ioredis's own console lines (broker/redis-console.ts) told through the broker's log, once: a
 * password Redis does not need, and INFO refused to the user, on a stand-in Redis that answers
 * as Redis 7 does. Without the quieting ioredis writes a line to the console per connection.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { redisConsoleQuieter } from "../redis-console.js";
import { openRedisStore, type RedisStore } from "../redis-store.js";

const NO_PASSWORD =
  "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
const NOPERM = "NOPERM this user has no permissions to run the 'info' command";

/** The commands of one RESP request (arrays of bulk strings), as they arrive. */
function requests(onCommand: (args: string[]) => void): (chunk: Buffer) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk.toString("latin1");
    for (;;) {
      const m = /^\*(\d+)\r\n/.exec(buf);
      if (!m) return;
      let at = m[0].length;
      const args: string[] = [];
      for (let i = 0; i < Number(m[1]); i++) {
        const len = /^\$(\d+)\r\n/.exec(buf.slice(at));
        if (!len) return;
        at += len[0].length;
        if (buf.length < at + Number(len[1]) + 2) return;
        args.push(buf.slice(at, at + Number(len[1])));
        at += Number(len[1]) + 2;
      }
      buf = buf.slice(at);
      onCommand(args);
    }
  };
}

/** A stand-in Redis 7: AUTH without a password set, INFO refused (ACL), the rest answered emptily. */
const sockets: Socket[] = [];
/** Connections that sent a command after INFO was answered (so ready). */
const fakeSeen = { ready: 0 };
async function fakeRedis(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
    let answeredInfo = false;
    s.on(
      "data",
      requests(([cmd = "", ...args]) => {
        const c = cmd.toLowerCase();
        // A command after INFO's answer: the client took that answer and is ready.
        if (answeredInfo && c !== "info") {
          answeredInfo = false;
          fakeSeen.ready += 1;
        }
        if (c === "info") answeredInfo = true;
        if (c === "auth") s.write(`-${NO_PASSWORD}\r\n`);
        else if (c === "info") s.write(`-${NOPERM}\r\n`);
        else if (c === "ping") s.write("+PONG\r\n");
        else if (c === "quit") s.end("+OK\r\n");
        else if (c === "client" || c === "select") s.write("+OK\r\n");
        else if (c === "psubscribe" || c === "subscribe")
          args.forEach(
            (p, i) => void s.write(`*3\r\n$${c.length}\r\n${c}\r\n$${p.length}\r\n${p}\r\n:${i + 1}\r\n`),
          );
        else if (c === "publish") s.write(":0\r\n");
        else s.write("*0\r\n");
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

function logLines() {
  const lines: { msg: string; level: number; [k: string]: unknown }[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, logger };
}

const ready = (c: Redis) => new Promise((r) => c.once("ready", r));

let fake: { server: Server; port: number } | undefined;
const conns: Redis[] = [];
let store: RedisStore | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of conns.splice(0)) c.disconnect();
  await store?.close();
  store = undefined;
  fake?.server.close();
  fakeSeen.ready = 0;
  for (const s of sockets.splice(0)) s.destroy();
});

describe("ioredis's console lines", () => {
  it("are printed by ioredis itself, once per connection, without the quieting", async () => {
    fake = await fakeRedis();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const a = new Redis(`redis://:secret@127.0.0.1:${fake.port}`);
    conns.push(a);
    await ready(a);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringContaining("does not require a password, but a password was supplied"),
      expect.stringContaining("Skipping the ready check because INFO command fails"),
    ]);
  });

  it("are logged once for all the connections given, and the connections come up", async () => {
    fake = await fakeRedis();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { lines, logger } = logLines();
    const quiet = redisConsoleQuieter("redis://:***@127.0.0.1", logger);
    for (let i = 0; i < 3; i++) {
      const c = new Redis(`redis://:secret@127.0.0.1:${fake.port}`);
      quiet(c);
      conns.push(c);
    }
    await Promise.all(conns.map(ready));
    expect(await conns[0]?.ping()).toBe("PONG");
    expect(warn).not.toHaveBeenCalled();
    expect(lines.map((l) => [l.level, l.msg.split(":")[0], l.redis])).toEqual([
      [40, "Redis needs no password, but --redis gives one", "redis://:***@127.0.0.1"],
      [
        40,
        "Redis refuses INFO to the --redis user, so a (re)connect does not wait while Redis is still loading its data (commands then fail until it has); allow the user INFO (ACL SETUSER … +info)",
        "redis://:***@127.0.0.1",
      ],
    ]);
  });

  it("are told through the log by a broker's Redis store, its password hidden", async () => {
    fake = await fakeRedis();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { lines, logger } = logLines();
    store = await openRedisStore(`redis://:secret@127.0.0.1:${fake.port}`, logger);
    // The start's probe and the store's three connections, each ready (their first health PING).
    await vi.waitFor(() => expect(fakeSeen.ready).toBe(4), { timeout: 5000 });
    expect(warn).not.toHaveBeenCalled();
    const told = lines.filter((l) => l.msg.startsWith("Redis needs no password"));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 40, redis: `redis://:***@127.0.0.1:${fake.port}` });
    expect(JSON.stringify(lines)).not.toContain("secret");
  });
});
