/**
 * The broker's count of PUBLISH packets it wrote to clients: every delivery counts once (two
 * subscribers, two deliveries; a retained message sent on subscribe counts too), and nothing else
 * the broker writes (CONNACK, SUBACK, PUBACK, PINGRESP) does. The count follows frame boundaries, so
 * a packet written in pieces still counts once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FrameScanner } from "../frame-limit.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, nextMessage, packet } from "./helpers.js";

let broker: RunningBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe("outgoing PUBLISH count", () => {
  it("counts each delivery once, retained ones included, and no other packet", async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const a = await client(broker.url, { clientId: "a" });
    const b = await client(broker.url, { clientId: "b" });
    const p = await client(broker.url, { clientId: "p" });
    try {
      await a.subscribeAsync("t/#", { qos: 1 });
      await b.subscribeAsync("t/x", { qos: 0 });
      expect(broker.traffic.publishesOut).toBe(0);
      const gotA = nextMessage(a, "t/x");
      const gotB = nextMessage(b, "t/x");
      await p.publishAsync("t/x", "1", { qos: 1 });
      await Promise.all([gotA, gotB]);
      expect(broker.traffic.publishesOut).toBe(2);
      await p.publishAsync("t/r", "kept", { qos: 1, retain: true });
      await nextMessage(a, "t/r");
      expect(broker.traffic.publishesOut).toBe(3);
      // A new subscription gets the retained message: one more.
      const late = nextMessage(b, "t/r");
      await b.subscribeAsync("t/r", { qos: 0 });
      await late;
      expect(broker.traffic.publishesOut).toBe(4);
    } finally {
      await closeAll(a, b, p);
    }
  });

  it("finds packet types across any chunking", () => {
    const types: number[] = [];
    const scanner = new FrameScanner(Number.POSITIVE_INFINITY, (t) => types.push(t));
    const bytes = Buffer.concat([
      packet({
        cmd: "publish",
        topic: "a/b",
        payload: Buffer.alloc(300, 1),
        qos: 0,
        retain: false,
        dup: false,
      }),
      packet({ cmd: "pingresp" }),
      packet({ cmd: "puback", messageId: 7 }),
      packet({
        cmd: "publish",
        topic: "c",
        payload: Buffer.from("x"),
        qos: 1,
        messageId: 8,
        retain: false,
        dup: false,
      }),
    ]);
    // One byte at a time: headers and length fields split everywhere.
    for (const byte of bytes) expect(scanner.scan(Uint8Array.of(byte))).toBeUndefined();
    expect(types).toEqual([3, 13, 4, 3]);
  });
});
