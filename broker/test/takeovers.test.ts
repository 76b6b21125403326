/**
 * Two clients with one client id, each reconnecting when the other takes its session over: the
 * broker warns once, naming the id; a single takeover (a device back before its old connection was
 * noticed gone) is no warning; a whole fleet's ids make a few warnings and one sum, not one each.
 */
import { PassThrough } from "node:stream";
import type { Aedes, Client } from "aedes";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
import { TakeoverWatch, WARNED_ONE_BY_ONE } from "../takeovers.js";
import { client, closeAll } from "./helpers.js";

type LogLine = { level: number; msg: string; clientId?: string; takeovers?: number; addresses?: string[] };
const WARN = 40;
let broker: RunningBroker | undefined;

async function start(): Promise<{ url: string; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({ host: "127.0.0.1", port: 0, logger });
  return { url: `mqtt://127.0.0.1:${broker.port}`, lines };
}

afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

const takeoverWarnings = (lines: LogLine[]) =>
  lines.filter((l) => l.level === WARN && /taken over/.test(l.msg));

it("warns once when two clients keep taking one client id's session from each other", async () => {
  const { url, lines } = await start();
  const a = await client(url, { clientId: "tf-n-0005", reconnectPeriod: 20 });
  const b = await client(url, { clientId: "tf-n-0005", reconnectPeriod: 20 });
  try {
    await expect
      .poll(() => lines.filter((l) => l.msg === "session taken over by a new connection").length)
      .toBeGreaterThanOrEqual(6);
    const warned = takeoverWarnings(lines);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ clientId: "tf-n-0005", takeovers: 3, addresses: ["127.0.0.1"] });
  } finally {
    await closeAll(a, b);
  }
});

it("does not warn about a single takeover", async () => {
  const { url, lines } = await start();
  const a = await client(url, { clientId: "tf-n-0006", reconnectPeriod: 0 });
  const b = await client(url, { clientId: "tf-n-0006", reconnectPeriod: 0 });
  try {
    await expect.poll(() => lines.some((l) => l.msg === "session taken over by a new connection")).toBe(true);
    expect(takeoverWarnings(lines)).toEqual([]);
  } finally {
    await closeAll(a, b);
  }
});

it("names the first ids one by one and sums the rest of a minute in one warning", () => {
  const lines: LogLine[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  const clock = {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => timers.push({ at: now + ms, fn }),
    clearTimeout: () => {},
    afterIo: (fn: () => void) => fn(),
  };
  const clients: Record<string, Client | undefined> = {};
  const registry = {
    clients,
    registerClient: (c: Client) => {
      clients[c.id] = c;
    },
  };
  const watch = new TakeoverWatch(registry as unknown as Aedes, logger, clock);
  const conn = (address: string) => {
    const stream = new PassThrough();
    watch.track(stream, address);
    return stream;
  };
  // Two fleets of 40 nodes with one set of ids, each node taken over 3 times in 4 s.
  for (let round = 0; round < 4; round += 1) {
    for (let n = 0; n < 40; n += 1) {
      const id = `tf-n-${String(n).padStart(4, "0")}`;
      now += 25;
      registry.registerClient({
        id,
        conn: conn(round % 2 === 0 ? "10.0.0.1" : "10.0.0.2"),
      } as unknown as Client);
    }
  }
  const one = takeoverWarnings(lines);
  expect(one).toHaveLength(WARNED_ONE_BY_ONE);
  expect(one.map((l) => l.clientId)).toEqual([
    "tf-n-0000",
    "tf-n-0001",
    "tf-n-0002",
    "tf-n-0003",
    "tf-n-0004",
  ]);
  expect(timers).toHaveLength(1);
  now = (timers[0] as { at: number }).at;
  (timers[0] as { fn: () => void }).fn();
  const summed = lines.filter((l) => /more client ids taken over/.test(l.msg));
  expect(summed).toHaveLength(1);
  expect(summed[0]).toMatchObject({ clientIds: 35, addresses: ["10.0.0.1", "10.0.0.2"] });
  expect((summed[0] as { first?: string[] }).first).toHaveLength(10);
});
