/**
 * The Arduino loop model on fake time: packets are noticed at the idle loop's next poll, one packet
 * per loop() iteration, the button interrupt acts at once and publishes when the semaphore is free,
 * CPU use comes out of the profile's cycle costs, and an overloaded node falls behind.
 */
import { describe, expect, it } from "vitest";
import { publishPacketBytes } from "../../../protocol/index.js";
import { ms, rig, UNO } from "./helpers.js";

const c = UNO.cycles;
const core = UNO.coreCycles;
const ITERATION = c.loopOverhead + c.idlePoll;

/** Cycles of the loop iteration that reads a `len`-byte state command (the core's measured step). */
const readCost = (len: number) => ITERATION + c.recvOverhead + c.spiReadPerByte * len + core.stateCommand;
/** Cycles of one PubSubClient write of `len` bytes (the core already built the payload). */
const sendCost = (len: number) => c.packetBuildPerByte * len + c.spiWritePerByte * len + c.sendOverhead;

function synced() {
  const r = rig();
  const n = r.node("A");
  n.start();
  r.sched.runUntil(3000);
  expect(r.of("synced")).toHaveLength(1);
  return { ...r, n };
}

describe("processing delay", () => {
  it("notices a packet at the next idle poll and applies it after reading and parsing it", () => {
    const { sched, broker, of } = synced();
    sched.runUntil(5000);
    broker.publish("tf/state/A", "S1 1 5", { qos: 1 });
    sched.runUntil(6000);
    const [applied] = of("applied");
    // PUBLISH at QoS 1: 2 header + 2 topic length + 10 topic + 2 id + 6 payload = 22 bytes.
    const arrival = 5000 + UNO.network.oneWayLatencyMs;
    const cost = ms(UNO, readCost(22) + c.digitalWrite);
    expect(applied?.at).toBeGreaterThanOrEqual(arrival + cost - 1e-9);
    expect(applied?.at).toBeLessThan(arrival + UNO.loop.idlePeriodUs / 1000 + cost);
    expect(applied?.stamp).toEqual({ counter: 6, origin: "A" });
  });

  it("reads at most one packet per loop() iteration", () => {
    const { sched, broker, of } = synced();
    for (let i = 1; i <= 5; i++) broker.publish("tf/state/A", `S1 ${i % 2} ${10 + i}`, { qos: 1 });
    sched.runUntil(10_000);
    const at = of("applied").map((e) => e.at);
    expect(at).toHaveLength(5);
    // Each iteration: read + parse, LED, publish the report, PUBACK; the next starts after it.
    const perPacket = ms(UNO, readCost(23) + c.digitalWrite + sendCost(22) + sendCost(4));
    for (let i = 1; i < at.length; i++)
      expect((at[i] ?? 0) - (at[i - 1] ?? 0)).toBeGreaterThanOrEqual(perPacket * 0.97);
  });
});

describe("button interrupt and semaphore", () => {
  it("writes the LED at once but publishes only after the loop releases the Ethernet controller", () => {
    const { sched, broker, of, n } = synced();
    sched.runUntil(4000);
    broker.publish("tf/state/A", "S1 0 20", { qos: 1 });
    // Press while the loop is reading that command (it started at the latest one idle period in).
    const arrival = 4000 + UNO.network.oneWayLatencyMs;
    const pressAt = arrival + UNO.loop.idlePeriodUs / 1000 + ms(UNO, ITERATION + c.recvOverhead);
    sched.runUntil(pressAt);
    n.press(pressAt);
    sched.runUntil(5000);
    const press = of("press")[0];
    const isr = c.isrEntry + c.isrDispatch + c.digitalRead + core.press + c.digitalWrite;
    expect(press?.ledAt).toBeCloseTo(pressAt + ms(UNO, isr), 9);
    expect(press?.stamp).toEqual({ counter: 22, origin: "A" });
    const reports = broker.publishes("tf-A").filter((p) => p.topic === "tf/report/A" && p.at > 4000);
    // The loop's report of the set command goes out first; the press's report waits for the chip.
    expect(reports.map((p) => p.payload).slice(0, 2)).toEqual(["R1 0 21 A", "R1 1 22 A"]);
    const loopDone = (reports[0]?.at ?? 0) + ms(UNO, sendCost(4)); // its PUBACK follows the report
    expect(reports[1]?.at ?? 0).toBeGreaterThan(loopDone);
  });

  it("makes the loop wait while the interrupt path holds the controller", () => {
    const { sched, broker, of, n } = synced();
    sched.runUntil(4000);
    n.press(4000);
    // A command arriving while the interrupt publishes is read only after that publish.
    broker.publish("tf/state/A", "S1 0 20", { qos: 1 });
    sched.runUntil(5000);
    const pressReport = broker.publishes("tf-A").find((p) => p.payload === "R1 1 1 A");
    const isr = c.isrEntry + c.isrDispatch + c.digitalRead + core.press + c.digitalWrite;
    const publishDone = 4000 + ms(UNO, isr + sendCost(publishPacketBytes(11, 8, 0)));
    expect(pressReport?.at).toBeCloseTo(publishDone + UNO.network.oneWayLatencyMs, 9);
    const applied = of("applied")[0];
    expect(applied?.at).toBeGreaterThan(publishDone + ms(UNO, readCost(23)));
  });
});

describe("CPU utilization", () => {
  it("counts an idle node's keepalive work only, idle polls apart", () => {
    const { sched, n } = synced();
    sched.runUntil(60_000);
    const a = n.stats();
    sched.runUntil(660_000);
    const b = n.stats();
    const pings = b.mqtt.pings - a.mqtt.pings;
    expect(pings).toBe(40); // one every 15 s
    // A ping costs one iteration that sends PINGREQ (2 bytes) and one that reads PINGRESP (2 bytes).
    const perPing = 2 * ITERATION + sendCost(2) + c.recvOverhead + 2 * c.spiReadPerByte;
    expect(b.cpu.workCycles - a.cpu.workCycles).toBeCloseTo(pings * perPing, 6);
    const elapsed = b.cpu.elapsedCycles - a.cpu.elapsedCycles;
    expect(elapsed).toBeCloseTo(600_000 * 16_000, 0);
    const polls = (b.cpu.pollCycles - a.cpu.pollCycles) / ITERATION;
    // Every idle period holds one poll, except the time spent on the pings themselves.
    const idleMs = 600_000 - pings * ms(UNO, perPing);
    expect(polls).toBeGreaterThan(idleMs / (UNO.loop.idlePeriodUs / 1000) - 2 * pings - 2);
    expect(polls).toBeLessThanOrEqual(600_000 / (UNO.loop.idlePeriodUs / 1000));
    expect(b.cpu.utilizationWithPolling).toBeGreaterThan(0.95);
  });
});

describe("overload", () => {
  it("falls behind: unread packets fill the 2 KB RX buffer, the window closes, the broker holds the rest", () => {
    const { sched, broker, of, n } = synced();
    const N = 300;
    for (let i = 0; i < N; i++) broker.publish("tf/state/A", `S1 ${i % 2} ${100 + i}`, { qos: 1 });
    sched.runUntil(3100);
    const s = n.stats();
    expect(s.rxBytes).toBeLessThanOrEqual(UNO.w5100.rxBufferBytes);
    expect(s.rxBytes).toBeGreaterThan(UNO.w5100.rxBufferBytes - 30);
    expect(s.link.down.windowStalls).toBeGreaterThan(0);
    sched.runUntil(10_000);
    const applied = of("applied");
    expect(applied).toHaveLength(N);
    // The backlog drains at the loop's pace: about one packet's processing time each.
    const perPacket = ms(UNO, readCost(24) + c.digitalWrite + sendCost(22) + sendCost(4));
    const span = (applied[N - 1]?.at ?? 0) - (applied[0]?.at ?? 0);
    expect(span).toBeGreaterThan((N - 1) * perPacket * 0.95);
    expect(span).toBeLessThan((N - 1) * perPacket * 1.2);
  });
});

describe("CPU accounting", () => {
  it("does not count an interrupt twice while the loop is blocked waiting for CONNACK", () => {
    const r = rig();
    r.broker.answerConnects = false;
    const n = r.node("A");
    n.start();
    r.sched.runUntil(2000); // connected at TCP level, blocked in connect() for up to 15 s
    for (let i = 0; i < 200; i++) n.press(2000 + i * 20);
    r.sched.runUntil(6000);
    const cpu = n.stats().cpu;
    expect(cpu.workCycles).toBeGreaterThan(200 * (c.isrEntry + c.isrReturn));
    expect(cpu.workCycles + cpu.blockedCycles).toBeLessThanOrEqual(cpu.elapsedCycles);
    expect(cpu.utilizationWithPolling).toBeLessThanOrEqual(1);
  });
});
