/**
 * The cuts the broker decides, logged from real sockets: 30 WebSocket clients each announcing a frame
 * of 2^62 bytes are each cut and counted, but written as twenty WARN lines and one WARN summary, not
 * thirty lines (a thousand such clients wrote a thousand).
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { loopDeadline } from "../../node/test/loop-time.js";
import { CLIENT_ERROR_LINES } from "../client-error-log.js";
import { type RunningBroker, startBroker } from "../server.js";
import { closed, rawSocket } from "./helpers.js";

let broker: RunningBroker | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await broker?.close();
  broker = undefined;
});

/** Resolves when `cond` holds, looked at every 10 ms; rejects after `ms` of loop time. */
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  let late = false;
  const deadline = loopDeadline(ms, () => {
    late = true;
  });
  try {
    while (!cond()) {
      if (late) throw new Error(`no ${what} within ${ms} ms of loop time`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    deadline.cancel();
  }
}

/** An upgrade request, then a masked binary frame header announcing 2^62 bytes. */
function hugeFrame(): Buffer {
  const upgrade =
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(2n ** 62n, 2);
  return Buffer.concat([Buffer.from(upgrade), header]);
}

it("writes twenty lines of a flood of cuts and one summary of the rest, and counts each", async () => {
  const lines: { level: number; msg: string; byCut?: Record<string, number> }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  broker = await startBroker({ host: "127.0.0.1", port: 0, wsPort: 0, logger });
  const clients = 30;
  for (let i = 0; i < clients; i++) {
    const s = await rawSocket(broker.wsPort ?? 0);
    s.on("error", () => {});
    s.resume();
    sockets.push(s);
    s.write(hugeFrame());
  }
  await Promise.all(sockets.map((s) => closed(s, 20_000)));
  const tally = broker.figures.tally;
  // Each is counted as aedes tells of its error, which may come after its socket closed.
  await until(() => tally.cut["packet-too-large"] === clients, `${clients} cuts counted`);
  // Closing writes what the window holds.
  await broker.close();
  broker = undefined;
  const cuts = lines.filter((l) => l.msg === "connection cut: packet limit");
  expect(cuts).toHaveLength(CLIENT_ERROR_LINES);
  expect(lines.filter((l) => l.msg.includes("connections cut in 10 s"))).toEqual([
    expect.objectContaining({
      level: 40,
      msg: `${clients - CLIENT_ERROR_LINES} more connections cut in 10 s, not logged one by one (${clients - CLIENT_ERROR_LINES} packet limit)`,
      byCut: { "packet limit": clients - CLIENT_ERROR_LINES },
    }),
  ]);
});
