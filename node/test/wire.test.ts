// A wire opened at a model instant: the real connection starts then (not when the model computed it),
// writes before then wait for it, and a wire given up before then never connects.
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../scheduler.js";
import { type Wire, type WireFactory, wireAt } from "../wire.js";

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
});
