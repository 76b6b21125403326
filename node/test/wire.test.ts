// A wire opened at a model instant: the real connection starts then (not when the model computed it),
// writes before then wait for it, and a wire given up before then never connects.
import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../scheduler.js";
import { tcpWire, type Wire, type WireFactory, wireAt } from "../wire.js";

function recorder(sched: FakeScheduler) {
  const log: string[] = [];
  const factory: WireFactory = () => {
    log.push(`open@${sched.now()}`);
    const w: Wire = {
      write: (b) => log.push(`write ${b.toString()}@${sched.now()}`),
      abandon: () => log.push(`abandon@${sched.now()}`),
      destroy: () => log.push(`destroy@${sched.now()}`),
    };
    return w;
  };
  return { log, factory };
}

const handlers = { packet: () => {}, closed: () => {} };

describe("wireAt", () => {
  it("opens at its instant and hands over what was written before", () => {
    const sched = new FakeScheduler();
    const { log, factory } = recorder(sched);
    const w = wireAt(factory, handlers, sched, 0.6);
    w.write(Buffer.from("CONNECT"));
    sched.runUntil(0.5);
    expect(log).toEqual([]);
    sched.runUntil(1);
    w.write(Buffer.from("SUBSCRIBE"));
    w.destroy();
    expect(log).toEqual(["open@0.6", "write CONNECT@0.6", "write SUBSCRIBE@1", "destroy@1"]);
  });

  it("never connects when given up before its instant", () => {
    const sched = new FakeScheduler();
    const { log, factory } = recorder(sched);
    const w = wireAt(factory, handlers, sched, 5);
    w.write(Buffer.from("CONNECT"));
    w.abandon();
    sched.runUntil(10);
    expect(log).toEqual([]);
  });

  it("tells an abandoned wire's end at once when it never opened, and a destroyed one's never", () => {
    const sched = new FakeScheduler();
    const { factory } = recorder(sched);
    const ends: string[] = [];
    const a = wireAt(factory, { packet: () => {}, closed: () => ends.push("a") }, sched, 5);
    const d = wireAt(factory, { packet: () => {}, closed: () => ends.push("d") }, sched, 5);
    a.abandon();
    a.abandon();
    d.destroy();
    sched.runUntil(10);
    expect(ends).toEqual(["a"]);
  });
});

describe("tcpWire", () => {
  it("tells the end of an abandoned connection (its owner lets it go), and not of a destroyed one", async () => {
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const ends: string[] = [];
      const packets: string[] = [];
      const open = (name: string) =>
        new Promise<Wire>((resolve) => {
          const handlers = { packet: () => packets.push(name), closed: () => ends.push(name) };
          const w = tcpWire("127.0.0.1", port)(handlers);
          server.once("connection", () => resolve(w));
        });
      const abandoned = await open("abandoned");
      const destroyed = await open("destroyed");
      abandoned.abandon();
      const gone = new Promise<void>((resolve) => {
        let n = 0;
        for (const s of accepted) s.on("close", () => ++n === 2 && resolve());
      });
      // PINGRESP to the abandoned one: not delivered.
      accepted[0]?.end(Buffer.from([0xd0, 0]));
      destroyed.destroy();
      await gone;
      await new Promise((resolve) => setImmediate(resolve));
      expect(ends).toEqual(["abandoned"]);
      expect(packets).toEqual([]);
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
