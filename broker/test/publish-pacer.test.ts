/**
 * The publish budget's pacer on a fake clock: a read hands on at most PUBLISHES_PER_READ publishes,
 * the budget's burst passes at once, what is past it waits for the clock, in order, and the input's
 * end comes after everything held.
 */
import mqttPacket from "mqtt-packet";
import { expect, it } from "vitest";
import type { OutboundClock } from "../outbound.js";
import { PUBLISHES_PER_READ, PublishBudget, PublishPacer } from "../publish-budget.js";

class FakeClock implements OutboundClock {
  t = 0;
  timers: { at: number; fn: () => void }[] = [];
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return timer;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((t) => t !== handle);
  };
  afterIo = (fn: () => void) => fn();
  advance(ms: number): void {
    this.t += ms;
    for (const due of this.timers.filter((t) => t.at <= this.t)) {
      this.timers = this.timers.filter((t) => t !== due);
      due.fn();
    }
  }
}

const publish = (i: number) =>
  mqttPacket.generate({
    cmd: "publish",
    topic: "t",
    payload: String(i),
    qos: 0,
    dup: false,
    retain: false,
  } as mqttPacket.IPublishPacket);
const ping = () => mqttPacket.generate({ cmd: "pingreq" } as mqttPacket.Packet);

function payloads(bufs: Buffer[]): string[] {
  const out: string[] = [];
  const parser = mqttPacket.parser();
  parser.on("packet", (p) => out.push(p.cmd === "publish" ? String(p.payload) : p.cmd));
  for (const b of bufs) parser.parse(b);
  return out;
}

function pacer(rate: number, burst: number, bytesRate = 1 << 30) {
  const clock = new FakeClock();
  const pushed: Buffer[] = [];
  const events: string[] = [];
  let reading = true;
  const p = new PublishPacer({ publishRate: rate, publishBurst: burst, publishBytesRate: bytesRate }, clock, {
    push: (b) => void pushed.push(b),
    end: () => events.push("end"),
    reading: (on) => {
      reading = on;
    },
    hold: (on) => events.push(on ? "hold" : "go"),
    held: (n) => events.push(`held ${n}`),
  });
  return { clock, pushed, events, p, reading: () => reading };
}

const many = (from: number, to: number) => {
  const out: Buffer[] = [];
  for (let i = from; i < to; i++) out.push(publish(i));
  return Buffer.concat(out);
};

it("hands on at most PUBLISHES_PER_READ publishes a read, and reads the socket again once all went", () => {
  const { p, pushed, reading } = pacer(1e9, 1e9);
  p.feed(Buffer.concat([ping(), many(0, 100)]));
  expect(pushed).toHaveLength(0);
  expect(reading()).toBe(false);
  p.read();
  expect(payloads(pushed)).toEqual([
    "pingreq",
    ...Array.from({ length: PUBLISHES_PER_READ }, (_, i) => String(i)),
  ]);
  p.read();
  p.read();
  p.read();
  expect(payloads(pushed)).toEqual(["pingreq", ...Array.from({ length: 100 }, (_, i) => String(i))]);
  expect(reading()).toBe(true);
});

it("holds what is past the burst until the budget refills, in order, then lets go", () => {
  const { p, pushed, events, clock } = pacer(100, 10);
  p.feed(many(0, 40));
  for (let i = 0; i < 5; i++) p.read();
  expect(payloads(pushed)).toHaveLength(10);
  expect(events).toEqual(["held 30", "hold"]);
  expect(p.holding).toBe(true);
  // Packets read while held wait behind, counted.
  p.feed(many(40, 45));
  expect(events).toContain("held 5");
  clock.advance(99);
  // 100 ms's worth at 100/s is 10 messages: the hold ends then, not at each message; aedes asked
  // for more meanwhile, so the next 10 go at once and the rest waits again.
  expect(payloads(pushed)).toHaveLength(10);
  clock.advance(1);
  expect(payloads(pushed)).toHaveLength(20);
  expect(events.filter((e) => e === "go")).toHaveLength(1);
  for (let i = 0; i < 20; i++) {
    clock.advance(100);
    p.read();
  }
  expect(payloads(pushed)).toEqual(Array.from({ length: 45 }, (_, i) => String(i)));
  expect(events.at(-1)).toBe("go");
  // Each publish past the budget counted once, however many holds it waited through.
  const held = events.filter((e) => e.startsWith("held ")).reduce((n, e) => n + Number(e.slice(5)), 0);
  expect(held).toBe(35);
});

it("passes the end of the input after what waits", () => {
  const { p, pushed, events, clock } = pacer(100, 5);
  p.feed(many(0, 8));
  p.end();
  p.read();
  expect(events).not.toContain("end");
  clock.advance(1000);
  p.read();
  expect(payloads(pushed)).toHaveLength(8);
  expect(events.at(-1)).toBe("end");
});

it("holds on bytes too, and lets a packet larger than the byte budget through when the bucket is full", () => {
  const budget = new PublishBudget({ publishRate: 1e9, publishBurst: 1e9, publishBytesRate: 1000 }, 0);
  expect(budget.take(5000, 0)).toBe(true);
  expect(budget.take(10, 0)).toBe(false);
  // 4,000 bytes in debt: back above zero after 4 s, and read again once 100 ms's worth is there.
  expect(budget.resumeAt(0)).toBe(4100);
  expect(budget.take(10, 4100)).toBe(true);
});

it("flush hands on everything at once and leaves no timer", () => {
  const { p, pushed, clock } = pacer(100, 2);
  p.feed(many(0, 10));
  p.read();
  expect(p.holding).toBe(true);
  p.flush();
  expect(p.holding).toBe(false);
  expect(clock.timers).toHaveLength(0);
  expect(payloads(pushed)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
});
