/**
 * The WebSocket listener against plain HTTP requests on real sockets: a request that is not an
 * upgrade is answered 426 once and its connection closed, the requests written after it in the same
 * read left unparsed, so a client writing GETs ahead of their answers and reading none holds nothing;
 * a request whose headers pass Node's 16 KiB bound is answered 431, and logged in words.
 */
import type { Socket } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { loopDeadline } from "../../node/test/loop-time.js";
import { type RunningBroker, startBroker } from "../server.js";
import { rawSocket } from "./helpers.js";

let broker: RunningBroker | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await broker?.close();
  broker = undefined;
});

const ANSWER = /^HTTP\/1\.1 426 /gm;

/**
 * What `s` was sent until the broker closed it, or until a second answer came (a connection kept for
 * more): the text and whether it was closed. Rejects after `ms` of loop time with neither.
 */
function answersUntilClosed(s: Socket, ms = 20_000): Promise<{ text: string; closed: boolean }> {
  let text = "";
  return new Promise((resolve, reject) => {
    const deadline = loopDeadline(ms, () =>
      reject(new Error(`neither closed nor a second answer within ${ms} ms: ${JSON.stringify(text)}`)),
    );
    const done = (closed: boolean) => {
      deadline.cancel();
      resolve({ text, closed });
    };
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if ((text.match(ANSWER) ?? []).length > 1) done(false);
    });
    s.once("close", () => done(true));
    s.on("error", () => {});
  });
}

/** A broker with a WebSocket port on a clock that never moves, and its log's lines. */
async function wsBroker(): Promise<{ b: RunningBroker; lines: { msg: string }[] }> {
  const lines: { msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const b = await startBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: 0,
    logger,
    scheduler: new FakeScheduler(),
  });
  broker = b;
  return { b, lines };
}

describe("a request that is not a WebSocket upgrade", () => {
  it("is answered 426 once and its connection closed, the requests written after it left unparsed", async () => {
    // The broker's clock never moves: its connect timeout cannot be what closes the connection.
    const { b, lines } = await wsBroker();
    const s = await rawSocket(b.wsPort ?? 0);
    sockets.push(s);
    const got = answersUntilClosed(s);
    // 64 KiB of plain GETs in one write, ahead of their answers.
    s.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1900));
    const { text, closed } = await got;
    expect(text.match(ANSWER)).toHaveLength(1);
    expect(text).toMatch(/^Connection: close\r$/m);
    expect(text).toContain("MQTT over WebSocket only");
    expect(closed).toBe(true);
    // One line for the connection, not one for each request; nothing counted as an upgrade timeout.
    const said = lines.filter((l) => l.msg.startsWith("not a WebSocket upgrade request"));
    expect(said.map((l) => l.msg)).toEqual([
      "not a WebSocket upgrade request (GET): answered 426 and closed",
    ]);
    expect(b.figures.tally.refused["ws-upgrade-timeout"]).toBe(0);
  });
});

describe("a request whose headers pass Node's 16 KiB bound", () => {
  it("is answered 431 and logged as what it is, not as a request that is not HTTP", async () => {
    const { b, lines } = await wsBroker();
    const s = await rawSocket(b.wsPort ?? 0);
    sockets.push(s);
    let text = "";
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
    });
    s.on("error", () => {});
    const closed = new Promise<void>((resolve) => s.once("close", () => resolve()));
    s.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${"x".repeat(17_000)}\r\n\r\n`);
    await closed;
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    await expect
      .poll(() => lines.filter((l) => l.msg.includes("HPE_HEADER_OVERFLOW")).map((l) => l.msg), {
        timeout: 20_000,
      })
      .toEqual([
        "request line and headers over 16 KiB, Node's bound (HPE_HEADER_OVERFLOW): answered 431 and closed",
      ]);
  });
});
