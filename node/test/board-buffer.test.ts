/**
 * What the board's client leaves at bytes 4 and 5 of PubSubClient 2.8's buffer (node/board-publish.ts),
 * against the bytes the library itself acknowledged (docs/device-model.md, "A PUBLISH shorter than
 * its topic length").
 */
import { generate } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { BoardBuffer } from "../board-publish.js";
import { pubsubConnect } from "../pubsub-buffer.js";

describe("PubSubClient's buffer, bytes 4 and 5", () => {
  it("holds the CONNECT's remaining length and the 0 after it once the CONNACK is read: id 0x2d00", () => {
    const b = new BoardBuffer();
    const connect = generate(pubsubConnect(Prefix("tf"), NodeId("n-0000"), 15, undefined, undefined));
    expect(connect.length).toBe(47);
    b.wrote(connect); // built behind 5 bytes of header room: its header at bytes 3 and 4
    b.read(Buffer.from("20020000", "hex"), true);
    expect(b.staleId).toBe(0x2d00);
  });

  it("takes a PUBLISH's header at bytes 3 and 4 and the topic length behind it; a PUBACK or PINGREQ leaves them", () => {
    const b = new BoardBuffer();
    b.wrote(Buffer.from("30080004" + "74662f615331", "hex"));
    expect(b.staleId).toBe(0x0800);
    b.wrote(Buffer.from("40020007", "hex"));
    b.wrote(Buffer.from("c000", "hex"));
    expect(b.staleId).toBe(0x0800);
    // A SUBSCRIBE: its packet id right behind its header.
    b.wrote(Buffer.from("820a01230005746f70696300", "hex"));
    expect(b.staleId).toBe(0x0a01);
  });
});
