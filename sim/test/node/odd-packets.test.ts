/**
 * Packets no broker should send a board, read as PubSubClient 2.8 reads them (src/PubSubClient.cpp,
 * loop()): the bytes go to the node straight from "the broker", past the in-memory broker's own
 * encoder.
 */
import { describe, expect, it } from "vitest";
import type { NodeEvent } from "../../../node/metrics.js";
import { FrameSplitter } from "../../../node/mqtt-frames.js";
import { FakeScheduler } from "../../../node/scheduler.js";
import { SimNode } from "../../../node/sim-node.js";
import type { WireHandlers } from "../../../node/wire.js";
import { MemoryBroker } from "../../memory-broker.js";
import { UNO } from "./helpers.js";

/** A node on an in-memory broker, and a way to put raw bytes on its connection from the broker's side. */
function setup() {
  const sched = new FakeScheduler();
  const broker = new MemoryBroker(sched);
  const inner = broker.wire();
  let toNode: WireHandlers | undefined;
  const events: NodeEvent[] = [];
  // While muted, nothing the broker sends reaches the node (what `raw` and `stream` put there does).
  const mute = { on: false };
  /** Every packet the node wrote, in order. */
  const sent: Buffer[] = [];
  const n = new SimNode({
    id: "A",
    seed: "test",
    profile: UNO,
    sched,
    wire: (h) => {
      toNode = h;
      const w = inner({
        ...h,
        packet: (b) => {
          if (!mute.on) h.packet(b);
        },
      });
      const write = w.write.bind(w);
      w.write = (b) => {
        sent.push(Buffer.from(b));
        write(b);
      };
      return w;
    },
    sink: (e) => events.push(e),
  });
  const raw = (bytes: Buffer) => {
    if (toNode === undefined) throw new Error("no connection");
    toNode.packet(bytes);
  };
  // Bytes as a TCP wire reads them: split into packets by its splitter (node/wire.ts).
  let split: { h: WireHandlers; f: FrameSplitter } | undefined;
  const stream = (bytes: Buffer) => {
    const h = toNode;
    if (h === undefined) throw new Error("no connection");
    if (split?.h !== h) split = { h, f: new FrameSplitter(h.keepBytes) };
    try {
      split.f.push(bytes, (p) => h.packet(p));
    } catch {
      h.closed(false); // what the wires do with a stream they cannot split: the socket is gone
    }
  };
  const open = () => toNode !== undefined;
  /** The broker's side closes the connection (its FIN behind what it sent). */
  const closeFromBroker = () => toNode?.closed(false);
  return { sched, broker, n, events, raw, stream, open, mute, closeFromBroker, sent };
}

/** A PUBLISH with the QoS bits `qos` and packet id 1 (for any QoS but 0). */
function publish(topic: string, payload: string, qos: number): Buffer {
  const t = Buffer.from(topic);
  const id = qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0);
  const body = Buffer.concat([Buffer.from([0, t.length]), t, id, Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1), body.length]), body]);
}

describe("odd packets from the broker", () => {
  it("reads a QoS 2 PUBLISH as QoS 0, its packet id leading the payload: dropped, never acknowledged", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    expect(t.n.connected).toBe(true);
    const out = t.n.stats().mqtt.packetsOut;
    t.raw(publish("tf/state/A", "S1 1 5", 2));
    t.sched.runUntil(4000);
    // The core got "\0\x01S1 1 5": a bad payload, the LED unchanged; no PUBREC (nor PUBACK) sent.
    const drops = t.events.filter((e) => e.type === "drop");
    expect(drops.map((d) => (d.type === "drop" ? d.reason : ""))).toEqual(["bad-payload"]);
    expect(t.n.stats().mqtt.packetsOut).toBe(out);
    // The same set command at QoS 1 is taken, and acknowledged.
    t.raw(publish("tf/state/A", "S1 1 5", 1));
    t.sched.runUntil(5000);
    expect(t.events.filter((e) => e.type === "drop")).toHaveLength(1);
    expect(t.n.stats().mqtt.packetsOut).toBeGreaterThan(out + 1);
  });

  it("answers a PINGREQ from the broker with a PINGRESP, as PubSubClient does", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    const out = t.n.stats().mqtt.packetsOut;
    t.raw(Buffer.from([0xc0, 0x00]));
    t.sched.runUntil(3500);
    expect(t.n.stats().mqtt.packetsOut).toBe(out + 1);
    expect(t.n.connected).toBe(true);
  });

  it("closes the connection itself on a remaining length of five bytes, counted as the node's close", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    expect(t.n.connected).toBe(true);
    t.stream(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    t.sched.runUntil(3500);
    const lost = t.events.filter((e) => e.type === "disconnected");
    expect(lost.map((e) => (e.type === "disconnected" ? e.reason : ""))).toEqual(["malformed"]);
    const m = t.n.stats().mqtt;
    expect({
      closedByNode: m.closedByNode,
      closedByBroker: m.closedByBroker,
      disconnects: m.disconnects,
    }).toEqual({
      closedByNode: 1,
      closedByBroker: 0,
      disconnects: 1,
    });
    // The sketch connects again after its reconnect period, and the new connection reads packets.
    t.sched.runUntil(12_000);
    expect(t.n.connected).toBe(true);
    expect(t.n.stats().mqtt.reconnects).toBe(1);
  });

  it("fails the connect at once on such a length in place of the CONNACK, as connect() does", () => {
    const t = setup();
    t.n.start();
    while (!t.open()) t.sched.runUntil(t.sched.now() + 1);
    const sentAt = t.sched.now();
    t.stream(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])); // ahead of the broker's CONNACK
    t.sched.runUntil(sentAt + 1000);
    const failed = t.events.filter((e) => e.type === "connect-failed");
    expect(failed.map((e) => (e.type === "connect-failed" ? e.reason : ""))).toEqual(["bad-connack"]);
    expect(t.n.stats().mqtt.disconnects).toBe(0);
    t.sched.runUntil(sentAt + 7000); // tried again after the 5 s reconnect period
    expect(t.n.connected).toBe(true);
  });
});

/** The connect-failed reasons and connected events of a run, in order. */
function outcomes(events: readonly NodeEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === "connect-failed" ? [e.reason] : e.type === "connected" ? ["connected"] : [],
  );
}

describe("a PUBLISH shorter than its topic length, read as a board reads it", () => {
  const dropped = (t: ReturnType<typeof setup>) =>
    t.events.flatMap((e) => (e.type === "drop" ? [`${e.reason} "${e.topic}"`] : []));

  it("takes the next packet's first 2 bytes for the topic length of `30 00`: the PINGREQ behind it goes unanswered", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    const out = t.n.stats().mqtt.packetsOut;
    t.stream(Buffer.from([0x30, 0x00, 0xc0, 0x00]));
    t.sched.runUntil(3500);
    // The guard lowered 0xc000 to 0: the callback got an empty topic, the core dropped it.
    expect(dropped(t)).toEqual(['bad-topic ""']);
    expect(t.n.stats().mqtt.packetsOut).toBe(out);
    // The stream is in step again behind it: the next PINGREQ is answered.
    t.stream(Buffer.from([0xc0, 0x00]));
    t.sched.runUntil(4000);
    expect(t.n.stats().mqtt.packetsOut).toBe(out + 1);
    expect(t.n.connected).toBe(true);
  });

  it("hands the callback the topic lowered to what the packet holds, the payload empty, and acknowledges QoS 1", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    const out = t.n.stats().mqtt.packetsOut;
    t.stream(Buffer.from([0x30, 0x02, 0x00, 0x05, 0xc0, 0x00])); // topic length 5 in a packet with room for 0
    t.stream(Buffer.from([0x30, 0x03, 0x00, 0x04, 0x78])); // 4 claimed, 1 there
    t.sched.runUntil(3500);
    expect(dropped(t)).toEqual(['bad-topic ""', 'bad-topic "x"']);
    expect(t.n.stats().mqtt.packetsOut).toBe(out + 1); // the PINGRESP
    t.stream(Buffer.from([0x32, 0x04, 0x00, 0x09, 0x00, 0x07])); // QoS 1, id 7, topic length 9
    t.sched.runUntil(4000);
    expect(dropped(t)).toHaveLength(3);
    expect(t.n.stats().mqtt.packetsOut).toBe(out + 2); // its PUBACK
    expect(t.n.connected).toBe(true);
  });
});

describe("a QoS 1 PUBLISH with no room for its packet id, read as a board reads it", () => {
  it("acknowledges the id left at bytes 4 and 5 of PubSubClient's buffer, and counts the sketch's drop", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    const from = t.sent.length;
    const hex = (h: string) => t.stream(Buffer.from(h, "hex"));
    // As measured on PubSubClient 2.8 behind the sketch's guard (docs/device-model.md): a QoS 0
    // PUBLISH "abc" leaves "bc" at bytes 4 and 5 once loop() has moved its topic.
    hex("300700036162636869");
    hex("32020005"); // topic length 5 lowered to 0; no id in the packet: 62 63 from the buffer
    hex("3203000578"); // its 5th byte is in the packet: 78, then 63
    hex(`32fd0100fb${"61".repeat(249)}7879`); // 256 bytes: topic lowered to 249, id 78 79 (its last 2)
    hex("32020005"); // the moved topic's "aa"
    hex(`30fe01000568656c6c6f${"69".repeat(247)}`); // 257 bytes: ignored, but read into the buffer
    hex("32020005"); // 05 68
    t.sched.runUntil(4000);
    const acks = t.sent.slice(from).filter((b) => b[0] === 0x40);
    expect(acks.map((b) => b.toString("hex"))).toEqual([
      "40026263",
      "40027863",
      "40027879",
      "40026161",
      "40020568",
    ]);
    // loop() gave those four callbacks a length wrapped below zero: the sketch's copyReceived refused them.
    const refused = t.events.filter((e) => e.type === "drop" && e.reason === "too-long");
    expect(refused).toHaveLength(4);
    expect(t.n.stats().mqtt.drops["too-long"]).toBe(4);
    expect(t.n.stats().mqtt.oversizedDropped).toBe(1);
    expect(t.n.connected).toBe(true);
  });
});

describe("a socket the broker closed with packets still in the RX buffer", () => {
  it("reads them first, one per loop, as connected() is true while bytes remain (CLOSE_WAIT), then is lost", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    expect(t.n.connected).toBe(true);
    const at = t.sched.now();
    // Three messages the core drops (not a topic of its own), and the broker's FIN right behind them.
    for (const x of ["a", "b", "c"]) t.raw(publish(`tf/${x}`, "1", 0));
    t.closeFromBroker();
    t.sched.runUntil(at + 1000);
    const dropped = t.events.flatMap((e) => (e.type === "drop" ? [e.topic] : []));
    expect(dropped).toEqual(["tf/a", "tf/b", "tf/c"]);
    const lost = t.events.filter((e) => e.type === "disconnected");
    expect(lost.map((e) => (e.type === "disconnected" ? e.reason : ""))).toEqual(["closed"]);
    const lastDrop = t.events.filter((e) => e.type === "drop").at(-1) as NodeEvent;
    expect((lost[0] as NodeEvent).at).toBeGreaterThanOrEqual(lastDrop.at);
  });
});

describe("the first packet after CONNECT, read as connect() reads it", () => {
  /** The node's first attempt answered by `bytes`, ahead of the broker's own CONNACK. */
  function answered(bytes: Buffer) {
    const t = setup();
    t.n.start();
    while (!t.open()) t.sched.runUntil(t.sched.now() + 1);
    const sentAt = t.sched.now();
    t.raw(bytes);
    t.sched.runUntil(sentAt + 1000);
    return { t, sentAt };
  }

  it("takes any 4 bytes whose 4th is 0 for an accepted CONNACK: a PUBACK connects the node", () => {
    const { t } = answered(Buffer.from([0x40, 0x02, 0x00, 0x00]));
    expect(outcomes(t.events)).toEqual(["connected"]);
    expect(t.n.connected).toBe(true);
  });

  it("takes any 4 bytes whose 4th is not 0 for a refusal: a PUBACK of packet id 5 refuses", () => {
    const { t } = answered(Buffer.from([0x40, 0x02, 0x00, 0x05]));
    expect(outcomes(t.events)).toEqual(["refused"]);
  });

  it("fails a CONNACK one byte long at once with a reason of its own, and tries again after its period", () => {
    const { t, sentAt } = answered(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
    expect(outcomes(t.events)).toEqual(["bad-connack"]);
    t.sched.runUntil(sentAt + 7000);
    expect(outcomes(t.events)).toEqual(["bad-connack", "connected"]);
  });
});

describe("keepalive", () => {
  it("does not count a packet over the buffer as the broker's traffic: readPacket() gave 0", () => {
    const t = setup();
    t.n.start();
    t.sched.runUntil(3000);
    expect(t.n.connected).toBe(true);
    t.mute.on = true; // the broker's packets, the echo of the press below among them, go unheard
    t.n.press(4000); // the node's own traffic, later than the broker's last packet
    t.sched.runUntil(8000);
    // A PUBLISH of 303 bytes (remaining length 300): over PubSubClient's 256-byte buffer.
    const body = Buffer.concat([Buffer.from([0, 4]), Buffer.from("tf/x"), Buffer.alloc(294, 0x31)]);
    t.raw(Buffer.concat([Buffer.from([0x30, 0xac, 0x02]), body]));
    t.sched.runUntil(8500);
    expect(t.n.stats().mqtt.oversizedDropped).toBe(1);
    expect(t.n.stats().mqtt.pings).toBe(0);
    // 15 s after the broker's last packet (before 3 s) the PINGREQ goes: the dropped one at 8 s
    // would have put it 15 s after the press at 4 s, at 19 s.
    t.sched.runUntil(18_500);
    expect(t.n.stats().mqtt.pings).toBe(1);
  });
});
