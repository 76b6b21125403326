/**
 * Two clients with one client id, each reconnecting when the other takes its session over: the
 * broker warns once, naming the id; a single takeover (a device back before its old connection was
 * noticed gone) is no warning.
 */
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../server.js";
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
