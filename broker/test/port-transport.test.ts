// The in-memory transport between node threads and the broker's thread (node/port-frames.ts,
// node/port-wire.ts, broker/port-listener.ts), over real MessageChannels in this thread: bytes in
// order both ways, credit-based back-pressure, bad batches rejected by name, and a real broker's
// streams cut by kill() and refused until it starts again.
import { once } from "node:events";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { generate } from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Frame,
  FrameKind,
  FrameWriter,
  MAX_FRAME_PAYLOAD,
  PortFrameError,
  readBatch,
  STREAM_WINDOW,
} from "../../node/port-frames.js";
import { portWire } from "../../node/port-wire.js";
import { napCell } from "../../node/scheduler.js";
import type { Wire } from "../../node/wire.js";
import { PortListener, type PortStream } from "../port-listener.js";
import { startBroker } from "../server.js";

const ports: MessagePort[] = [];
function channel(): { client: MessagePort; broker: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  return { client: port1, broker: port2 };
}
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

/** A PUBLISH of `n` payload bytes, a whole MQTT packet as the wire delivers them. */
function publish(i: number, n: number): Buffer {
  return generate({
    cmd: "publish",
    topic: `t/${i}`,
    payload: Buffer.alloc(n, i % 256),
    qos: 0,
    retain: false,
    dup: false,
  });
}

/** `Atomics.waitAsync` (Node 16+; not in this project's TypeScript lib). */
type WaitAsync = (
  cell: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) => { async: boolean; value: Promise<"ok" | "timed-out"> | "not-equal" | "timed-out" };

/** Runs `fn` on every batch `port` receives, decoded. */
function frames(port: MessagePort, fn: (f: Frame) => void): void {
  port.on("message", (b) => readBatch(b, fn));
}

function batchOf(build: (w: FrameWriter) => void): ArrayBuffer {
  let out: ArrayBuffer | undefined;
  const w = new FrameWriter({ postMessage: (b) => (out = b) }, () => {});
  build(w);
  w.flush();
  if (!out) throw new Error("nothing written");
  return out;
}

describe("in-memory transport", () => {
  it("carries every byte in order both ways, as whole packets to the node", async () => {
    const { client, broker } = channel();
    const listener = new PortListener();
    listener.attach(broker, "in-process");
    const accepted: PortStream[] = [];
    listener.listen((s, address) => {
      expect(address).toBe("in-process");
      accepted.push(s);
    });
    const got: Buffer[] = [];
    const sent = Array.from({ length: 300 }, (_, i) => publish(i, (i * 37) % 2000));
    const wire = portWire(client)({ packet: (p) => got.push(Buffer.from(p)), closed: () => {} });
    for (const p of sent) wire.write(p);
    while (accepted.length === 0) await once(broker, "message");
    const s = accepted[0] as PortStream;
    const inbound: Buffer[] = [];
    const want = Buffer.concat(sent);
    s.on("data", (c: Buffer) => inbound.push(c));
    while (Buffer.concat(inbound).length < want.length) await once(s, "data");
    expect(Buffer.concat(inbound).equals(want)).toBe(true);
    // Back to the node: large writes split into frames, packets rebuilt whole and in order.
    const back = [publish(1, 10), publish(2, MAX_FRAME_PAYLOAD + 100), publish(3, 5)];
    for (const p of back) s.write(p);
    while (got.length < back.length) await once(client, "message");
    expect(got.map((p) => p.toString("hex"))).toEqual(back.map((p) => p.toString("hex")));
    wire.destroy();
    await once(s, "close");
    expect(listener.streams).toBe(0);
  });

  it("holds the broker's writes past the window until the client grants credit", async () => {
    const { client, broker } = channel();
    const listener = new PortListener();
    listener.attach(broker, "in-process");
    let stream: PortStream | undefined;
    listener.listen((s) => {
      stream = s;
    });
    const received: Frame[] = [];
    frames(client, (f) => received.push(f));
    client.postMessage(batchOf((w) => w.control(FrameKind.open, 7)));
    while (!stream) await once(broker, "message");
    const s = stream;
    const chunk = Buffer.alloc(STREAM_WINDOW / 2, 1);
    s.write(chunk);
    s.write(chunk);
    s.write(chunk); // past the window: waits in the stream, where the outbound guard sees it
    expect(s.writableLength).toBe(chunk.length);
    const dataBytes = () =>
      received.filter((f) => f.kind === FrameKind.data).reduce((n, f) => n + (f.bytes?.length ?? 0), 0);
    while (dataBytes() < 2 * chunk.length) await once(client, "message");
    expect(dataBytes()).toBe(2 * chunk.length);
    client.postMessage(batchOf((w) => w.credit(7, chunk.length)));
    while (dataBytes() < 3 * chunk.length) await once(client, "message");
    expect(s.writableLength).toBe(0);

    // The other way: bytes the broker does not read are not credited until it reads them.
    const credited = () =>
      received.filter((f) => f.kind === FrameKind.credit).reduce((n, f) => n + (f.credit ?? 0), 0);
    const big = Buffer.alloc(s.readableHighWaterMark * 2, 2);
    client.postMessage(batchOf((w) => w.data(7, big)));
    await once(broker, "message");
    await new Promise((r) => setImmediate(r));
    expect(credited()).toBeLessThan(big.length);
    let read = 0;
    s.on("data", (c: Buffer) => {
      read += c.length;
    });
    while (credited() < big.length) await once(client, "message");
    expect(read).toBe(big.length);
    expect(credited()).toBe(big.length);
  });

  it("a client thread's port that closes ends its streams, as a dead process's sockets", async () => {
    const { client, broker } = channel();
    const listener = new PortListener();
    listener.attach(broker, "in-process");
    const streams: PortStream[] = [];
    listener.listen((s) => streams.push(s));
    const wire = portWire(client)({ packet: () => {}, closed: () => {} });
    wire.write(publish(1, 1));
    while (streams.length === 0) await once(broker, "message");
    expect(listener.streams).toBe(1);
    const s = streams[0] as PortStream;
    client.close();
    await once(s, "close");
    expect(listener.streams).toBe(0);
  });

  it("tells the end of a stream the client gave up without closing it (its owner lets it go)", async () => {
    const { client, broker } = channel();
    const listener = new PortListener();
    listener.attach(broker, "in-process");
    const streams: PortStream[] = [];
    listener.listen((s) => streams.push(s));
    const ends: string[] = [];
    const wire = portWire(client)({ packet: () => ends.push("packet"), closed: () => ends.push("closed") });
    wire.write(publish(1, 1));
    while (streams.length === 0) await once(broker, "message");
    wire.abandon();
    // The broker drops it (its keepalive check, or a kill): a close frame to the client.
    (streams[0] as PortStream).destroy();
    while (ends.length === 0) await once(client, "message");
    expect(ends).toEqual(["closed"]);
  });

  it("wakes the client thread when it posts to it: its nap cell, sent first, is notified", async () => {
    const { client, broker } = channel();
    const listener = new PortListener();
    listener.attach(broker, "in-process");
    listener.listen(() => {});
    const cell = new Int32Array(napCell());
    Atomics.store(cell, 0, 0); // as a nap leaves it
    const wire = portWire(client)({ packet: () => {}, closed: () => {} });
    wire.write(publish(1, 10));
    // The broker grants credit for the bytes: a batch to the client, and the cell notified.
    const woken = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(cell, 0, 0, 10_000);
    expect(woken.async).toBe(true);
    expect(await woken.value).toBe("ok");
    // The cell stays set, so a thread not napping yet when the batch came does not nap on it.
    expect(Atomics.load(cell, 0)).toBe(1);
  });

  it("rejects bad batches, naming what is wrong", () => {
    const bad = (b: unknown) => () => readBatch(b, () => {});
    expect(bad("hello")).toThrow(/must be an ArrayBuffer, got string/);
    expect(bad(new ArrayBuffer(5))).toThrow(/truncated frame header at byte 0 of a 5-byte batch/);
    const header = (kind: number, stream: number, length: number, extra = 0) => {
      const b = new ArrayBuffer(9 + extra);
      const v = new DataView(b);
      v.setUint8(0, kind);
      v.setUint32(1, stream);
      v.setUint32(5, length);
      return b;
    };
    expect(bad(header(9, 1, 0))).toThrow(/unknown frame kind 9 at byte 0/);
    expect(bad(header(FrameKind.data, 3, MAX_FRAME_PAYLOAD + 1, MAX_FRAME_PAYLOAD + 1))).toThrow(
      `data frame of stream 3 carries ${MAX_FRAME_PAYLOAD + 1} bytes (1 to ${MAX_FRAME_PAYLOAD} allowed)`,
    );
    expect(bad(header(FrameKind.data, 3, 0))).toThrow(/carries 0 bytes/);
    expect(bad(header(FrameKind.data, 3, 100, 10))).toThrow(/claims 100 bytes, 10 remain/);
    expect(bad(header(FrameKind.credit, 4, 2, 2))).toThrow(/credit frame of stream 4 has length 2, not 4/);
    expect(bad(header(FrameKind.open, 5, 1, 1))).toThrow(/open frame of stream 5 has length 1, not 0/);
    expect(bad(header(FrameKind.data, 3, 4, 4))).not.toThrow();
  });

  it("a port that sends a bad batch has its streams cut, and the error is reported", async () => {
    const { client, broker } = channel();
    const errors: string[] = [];
    const listener = new PortListener((err, address) => errors.push(`${address}: ${err.message}`));
    listener.attach(broker, "shard-x");
    const streams: PortStream[] = [];
    listener.listen((s) => streams.push(s));
    const closedFrames: number[] = [];
    frames(client, (f) => f.kind === FrameKind.close && closedFrames.push(f.stream));
    client.postMessage(batchOf((w) => w.control(FrameKind.open, 1)));
    await once(broker, "message");
    expect(streams).toHaveLength(1);
    client.postMessage(batchOf((w) => w.control(FrameKind.refused, 1)));
    await once(broker, "message");
    expect(errors).toEqual(["shard-x: a client sent a refused frame (stream 1); only the broker may"]);
    expect(streams[0]?.destroyed).toBe(true);
    while (closedFrames.length === 0) await once(client, "message");
    expect(closedFrames).toEqual([1]);
    expect(() => readBatch(new ArrayBuffer(3), () => {})).toThrow(PortFrameError);
  });

  it("a broker's kill cuts every node's stream; opens are refused until it starts again", async () => {
    const { client, broker: brokerEnd } = channel();
    const listener = new PortListener();
    listener.attach(brokerEnd, "in-process");
    let b = await startBroker({ port: 0 });
    listener.listen((s, a) => b.accept(s, a));
    const factory = portWire(client);
    const connect = generate({
      cmd: "connect",
      clientId: "n-1",
      keepalive: 30,
      clean: true,
      protocolId: "MQTT",
      protocolVersion: 4,
    });

    /** Opens a wire, sends CONNECT; resolves with what happened first. */
    const attempt = () =>
      new Promise<{ wire: Wire; got: string; closed: Promise<boolean> }>((resolve) => {
        let closedResolve: (refused: boolean) => void = () => {};
        const closed = new Promise<boolean>((r) => {
          closedResolve = r;
        });
        const wire: Wire = factory({
          packet: (p) =>
            resolve({ wire, got: p[0] === 0x20 ? "connack" : `0x${p[0]?.toString(16)}`, closed }),
          closed: (refused) => {
            closedResolve(refused === true);
            resolve({ wire, got: refused ? "refused" : "closed", closed });
          },
        });
        wire.write(connect);
      });

    const first = await attempt();
    expect(first.got).toBe("connack");
    expect(b.aedes.connectedClients).toBe(1);
    listener.cut();
    await b.kill();
    expect(await first.closed).toBe(false); // cut, not refused: it had been connected
    expect((await attempt()).got).toBe("refused");
    b = await startBroker({ port: 0 });
    listener.listen((s, a) => b.accept(s, a));
    const again = await attempt();
    expect(again.got).toBe("connack");
    again.wire.destroy();
    await b.close();
  });
});
