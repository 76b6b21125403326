/**
 * PubSubClient's 256-byte packet limit (an oversized incoming message is drained and dropped
 * silently, and counted) and the SRAM budget that refuses a configuration that would not fit.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type DeviceProfile, loadProfile, parseProfile } from "../../../node/profile.js";
import { checkRam, RamBudgetError, ramBudget } from "../../../node/ram.js";
import { publishPacketBytes } from "../../../protocol/index.js";
import { ms, rig, UNO } from "./helpers.js";

describe("packet limit", () => {
  it("drops an incoming packet over 256 bytes before the callback and counts it; 256 bytes pass", () => {
    const r = rig();
    const n = r.node("A");
    n.start();
    r.sched.runUntil(3000);
    const topic = "tf/state/A";
    // QoS 1 PUBLISH: pad the payload's trailing field so the whole packet is exactly 256 / 257 bytes.
    let fits = 0;
    while (publishPacketBytes(topic.length, fits + 1, 1) <= 256) fits++;
    expect(publishPacketBytes(topic.length, fits, 1)).toBe(256);
    const payload = (extra: number) => `S1 1 ${"1".padStart(fits - 5 + extra, "0")}`;
    r.broker.publish(topic, payload(1), { qos: 1 });
    r.sched.runUntil(4000);
    expect(r.of("oversized")).toEqual([{ type: "oversized", node: "A", at: expect.any(Number), bytes: 257 }]);
    expect(r.of("drop")).toEqual([]);
    expect(n.stats().mqtt.oversizedDropped).toBe(1);
    r.broker.publish(topic, payload(0), { qos: 1 });
    r.sched.runUntil(5000);
    expect(r.of("oversized")).toHaveLength(1);
    // 256 bytes reach the core, which rejects the leading zero as a malformed counter.
    expect(r.of("drop").map((d) => d.reason)).toEqual(["bad-payload"]);
  });
});

describe("CONNECT limit", () => {
  // tf-A, will tf/status/A "T1 0", user A: 5 + 10 + 6 + 13 + 6 + 3 = 43 bytes before the password.
  it("a CONNECT one byte over PubSubClient's buffer fails at once, never sent, retried each period", () => {
    const r = rig();
    const n = r.node("A", { username: "A", password: "x".repeat(212) });
    n.start();
    r.sched.runUntil(12_000);
    const failed = r.of("connect-failed");
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((f) => f.reason === "connect-too-long")).toBe(true);
    // Not after the 15 s CONNACK wait: connect() gives up before writing, every reconnect period.
    expect(failed[0]?.at).toBeLessThan(1000); // the W5100's reset wait, then the handshake
    const gaps = failed.slice(1).map((f, i) => f.at - (failed[i]?.at ?? 0));
    expect(gaps.every((g) => Math.abs(g - UNO.sketch.reconnectPeriodMs) < 50)).toBe(true);
    expect(r.of("connected")).toEqual([]);
    expect(n.stats().mqtt.packetsOut).toBe(0);
  });

  it("a CONNECT that just fits connects", () => {
    const r = rig();
    const n = r.node("A", { username: "A", password: "x".repeat(211) });
    n.start();
    r.sched.runUntil(3000);
    expect(r.of("connect-failed")).toEqual([]);
    expect(n.connected).toBe(true);
  });
});

describe("publish limit", () => {
  it("refuses a publish as PubSubClient does, by 7 + topic + payload, not by the packet's size", () => {
    // A 41-byte buffer: the CONNECT needs 40 (5 + 10 + 6 + 13 + 6); the register, tf/register/A
    // "G1 sim uno-w5100 1.0.0", is a 39-byte packet but publish() needs 7 + 13 + 22 = 42.
    const r = rig();
    const n = r.node("A", { maxPacketBytes: 41 });
    n.start();
    r.sched.runUntil(5000);
    expect(n.connected).toBe(true);
    const sent = r.broker.publishes("tf-A").map((p) => p.topic);
    expect(sent).toContain("tf/status/A");
    expect(sent).not.toContain("tf/register/A");
    expect(n.stats().mqtt.oversizedPublishes).toBe(1);
  });
});

describe("RAM budget", () => {
  it("accounts the uno's buffers and fits in 2 KB", () => {
    const b = checkRam(UNO);
    expect(b.sramBytes).toBe(2048);
    expect(b.items.find((i) => i.name === "pubsubclient buffer")?.bytes).toBe(258);
    expect(b.usedBytes).toBe(b.items.reduce((s, i) => s + i.bytes, 0));
    expect(b.freeBytes).toBeGreaterThan(0);
  });

  it("counts at least the measured firmware's static RAM, the sketch's receive copy among it", () => {
    const b = checkRam(UNO);
    const heapAndStack = ["pubsubclient buffer", "stack"];
    const staticBytes = b.items
      .filter((i) => !heapAndStack.includes(i.name))
      .reduce((s, i) => s + i.bytes, 0);
    // 1,308 B measured (avr-gcc 5.4, the whole sketch), the core 1 B larger since.
    expect(UNO.firmware?.sramStaticBytes).toBe(1308);
    expect(staticBytes).toBe(1309);
    expect(b.items.find((i) => i.name === "sketch receive copy")?.bytes).toBe(256);
    expect(b.usedBytes).toBe(1917);
  });

  it("refuses a PubSubClient buffer the uno cannot hold twice over (heap and the sketch's copy)", () => {
    const r = rig();
    expect(() => r.node("A", { maxPacketBytes: 321 })).not.toThrow();
    expect(() => r.node("B", { maxPacketBytes: 322 })).toThrow(
      /needs 2049 B of SRAM .*sketch receive copy 322/,
    );
    expect(() => r.node("C", { maxPacketBytes: 512 })).toThrow(RamBudgetError);
  });

  it("refuses a 1 KB PubSubClient buffer on the uno with a clear error", () => {
    const big = loadProfile(
      fileURLToPath(new URL("../../../node/test/fixtures/big-buffer.json", import.meta.url)),
    );
    expect(ramBudget(big).freeBytes).toBeLessThan(0);
    expect(() => checkRam(big)).toThrow(RamBudgetError);
    expect(() => checkRam(big)).toThrow(
      /needs \d+ B of SRAM but the ATmega328P has 2048 B .*pubsubclient buffer 1026/,
    );
    const r = rig();
    expect(() => r.node("A", { profile: big })).toThrow(RamBudgetError);
    expect(() => r.node("A", { maxPacketBytes: 1024 })).toThrow(/over/);
  });
});

describe("a packet larger than the socket's TX buffer", () => {
  const LINUX = loadProfile("linux-client");
  const withTx = (p: DeviceProfile, txBufferBytes: number): DeviceProfile => ({
    ...p,
    w5100: { ...p.w5100, txBufferBytes },
  });
  const blockedMs = (tx: number) => {
    const r = rig();
    const n = r.node("A", { profile: withTx(LINUX, tx) });
    n.start();
    r.sched.runUntil(5000);
    expect(n.connected).toBe(true);
    // Every packet reaches the broker whole: a blocking send() writes all of it.
    expect(r.broker.publishes("tf-A").map((p) => p.topic)).toContain("tf/register/A");
    return ms(LINUX, n.stats().cpu.blockedCycles);
  };

  it("on a Linux TCP blocks the send until the packet's tail is in the buffer (flow control)", () => {
    // 8 B: smaller than every packet the node sends (CONNECT, register, status, subscribes). The
    // send returned at once, as with no limit, when the room left was negative.
    const small = blockedMs(8);
    const large = blockedMs(16_384);
    expect(small).toBeGreaterThan(large + LINUX.network.oneWayLatencyMs);
  });

  it("is refused on a W5100, whose send cuts the packet and reports it written whole", () => {
    const file = { ...UNO.cited, w5100: { ...UNO.cited.w5100 } };
    file.w5100.txBufferBytes = { ...file.w5100.txBufferBytes, value: 200 };
    expect(() => parseProfile(file, "small-tx.json")).toThrow(
      "small-tx.json: invalid device profile\n  w5100.txBufferBytes.value: 200 B is smaller than mqtt.maxPacketBytes (256 B)",
    );
    file.w5100.txBufferBytes = { ...file.w5100.txBufferBytes, value: 256 };
    expect(() => parseProfile(file, "small-tx.json")).not.toThrow();
    // Nor through a buffer given past the profile (the Due's SRAM holds 4 KB).
    const r = rig();
    const due = loadProfile("due-w5100");
    expect(() => r.node("A", { profile: due, maxPacketBytes: 4096 })).toThrow(
      "a 4096 B PubSubClient buffer is over the W5100's 2048 B TX buffer",
    );
    expect(() => r.node("B", { profile: due, maxPacketBytes: 2048 })).not.toThrow();
  });
});
