/**
 * The transport packet limit: the scanner on arbitrary chunkings, and real TCP sockets that send
 * oversized, endless or malformed packets — several at once, before and after CONNECT.
 */
import type { Socket } from "node:net";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FrameLimitError, FrameScanner } from "../frame-limit.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, closed, connectPacket, nextMessage, once, packet, rawSocket } from "./helpers.js";

/** A frame with the given remaining length: type byte, varint length, zero body. */
function frame(type: number, remaining: number): Buffer {
  const len: number[] = [];
  let n = remaining;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), Buffer.alloc(remaining)]);
}

function scanInChunks(scanner: FrameScanner, data: Buffer, cuts: number[]) {
  let start = 0;
  for (const cut of [...cuts.sort((a, b) => a - b), data.length]) {
    const v = scanner.scan(data.subarray(start, Math.max(start, cut)));
    if (v) return v;
    start = Math.max(start, cut);
  }
  return undefined;
}

describe("FrameScanner", () => {
  it("accepts any sequence of frames within the limit, however it is chunked", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 - 3 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (lengths, cutSeeds) => {
          const data = Buffer.concat(lengths.map((l) => frame(0x30, l)));
          const cuts = cutSeeds.map((c) => (data.length === 0 ? 0 : c % data.length));
          return scanInChunks(new FrameScanner(300), data, cuts) === undefined;
        },
      ),
    );
  });

  it("reports a frame one byte over the limit, counting the fixed header", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (before, cutSeeds) => {
          // 256 bytes in all: 1 type + 2 length bytes + 253; one more is too many.
          const data = Buffer.concat([
            ...Array.from({ length: before }, () => frame(0x30, 253)),
            frame(0x30, 254),
          ]);
          const cuts = cutSeeds.map((c) => c % data.length);
          const v = scanInChunks(new FrameScanner(256), data, cuts);
          return v?.kind === "too-large" && v.declaredBytes === 257;
        },
      ),
    );
  });

  it("cuts on the header alone, before the body arrives", () => {
    expect(new FrameScanner(1024).scan(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))).toEqual({
      kind: "too-large",
      declaredBytes: 268_435_455 + 5,
      limit: 1024,
    });
  });

  it("calls a fifth remaining-length byte malformed", () => {
    const s = new FrameScanner(1024);
    expect(s.scan(Buffer.from([0x30, 0x80, 0x80, 0x80]))).toBeUndefined();
    expect(s.scan(Buffer.from([0x80]))).toEqual({ kind: "malformed-length" });
  });
});

describe("packet limit on real TCP", () => {
  const LIMIT = 4096;
  let broker: RunningBroker;
  beforeEach(async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, maxPacketBytes: LIMIT });
  });
  afterEach(() => broker.close());

  /** Writes `chunk` again and again until the broker cuts the socket. */
  function flood(s: Socket, chunk: Buffer): void {
    s.on("error", () => {});
    const pump = () => {
      while (!s.destroyed && s.write(chunk)) {}
      if (!s.destroyed) s.once("drain", pump);
    };
    pump();
  }

  it("cuts several oversized and endless senders at once and keeps serving others", async () => {
    const cuts: FrameLimitError[] = [];
    const onError = (_client: unknown, err: Error) => {
      if (err instanceof FrameLimitError) cuts.push(err);
    };
    broker.aedes.on("connectionError", onError);
    broker.aedes.on("clientError", onError);

    const attackers = await Promise.all(Array.from({ length: 6 }, () => rawSocket(broker.port)));
    const body = Buffer.alloc(64 * 1024, 0x41);
    // 0, 1: an endless CONNECT (largest length MQTT can declare), body streamed forever.
    for (const s of attackers.slice(0, 2)) {
      s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      flood(s, body);
    }
    // 2, 3: a valid CONNECT, then a PUBLISH of 1 MiB.
    for (const s of attackers.slice(2, 4)) {
      s.write(connectPacket(`big-${s.localPort}`));
      s.write(Buffer.from([0x30, 0x80, 0x80, 0x40]));
      flood(s, body);
    }
    // 4: a remaining length that never ends; 5: just over the limit, sent in full.
    attackers[4]!.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x80]));
    attackers[5]!.write(connectPacket("over"));
    attackers[5]!.write(frame(0x30, LIMIT - 2)); // 1 + 2 + 4094 = 4097 bytes

    await Promise.all(attackers.map((s) => closed(s)));
    await expect.poll(() => cuts.length).toBe(6);
    expect(cuts.map((e) => e.violation.kind).sort()).toEqual([
      "malformed-length",
      "too-large",
      "too-large",
      "too-large",
      "too-large",
      "too-large",
    ]);
    // The broker stopped reading each at once: never more than the limit plus one socket read.
    for (const e of cuts) expect(e.bytesSeen).toBeLessThanOrEqual(LIMIT + 64 * 1024);

    const c = await client(broker.url);
    await c.subscribeAsync("t/ok");
    const got = nextMessage(c, "t/ok");
    await c.publishAsync("t/ok", Buffer.alloc(LIMIT - 100, 0x42));
    expect((await got).length).toBe(LIMIT - 100);
    await closeAll(c);
  });

  it("lets a packet of exactly the limit through", async () => {
    const s = await rawSocket(broker.port);
    s.write(connectPacket("exact"));
    await once(s, "data");
    const topic = "t/x";
    // PUBLISH QoS 0: 2 + topic + payload = remaining; 1 + 2 + remaining = LIMIT.
    const payload = Buffer.alloc(LIMIT - 3 - 2 - topic.length, 0x43);
    const sub = await client(broker.url);
    await sub.subscribeAsync(topic);
    const got = nextMessage(sub, topic);
    const p = packet({ cmd: "publish", topic, payload, qos: 0, dup: false, retain: false });
    expect(p.length).toBe(LIMIT);
    s.write(p);
    expect((await got).length).toBe(payload.length);
    s.destroy();
    await closeAll(sub);
  });
});
