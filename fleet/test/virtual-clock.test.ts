/**
 * The virtual clock's driver: async code woken by a callback runs before virtual time moves on,
 * whether the callback settled a promise itself or only made one; a run of synchronous callbacks
 * needs no host turn for each, and the promise watch the driver asks tells the two apart.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler, sleep } from "../../node/scheduler.js";
import { PromiseWatch } from "../promise-watch.js";
import { VirtualClock } from "../virtual-clock.js";

describe("the promise watch", () => {
  it("sees a promise made or settled since its mark, and nothing after plain calls", async () => {
    const w = PromiseWatch.start();
    try {
      w.mark();
      let sum = 0;
      for (let i = 0; i < 10; i++) sum += i;
      expect(sum).toBe(45);
      expect(w.seen()).toBe(false);
      let resolve: () => void = () => {};
      const p = new Promise<void>((r) => {
        resolve = r;
      });
      expect(w.seen()).toBe(true);
      w.mark();
      resolve();
      expect(w.seen()).toBe(true);
      await p;
    } finally {
      w.stop();
    }
  });

  it("counts on while another watch runs, and a second stop changes nothing", () => {
    const a = PromiseWatch.start();
    const b = PromiseWatch.start();
    a.stop();
    a.stop();
    b.mark();
    void Promise.resolve();
    expect(b.seen()).toBe(true);
    b.stop();
  });
});

describe("the virtual clock's driver", () => {
  it("lets async code read the virtual time its wake-up happened at", async () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    // A chain of awaits after each wake-up, while synchronous timers every 1 ms keep time moving.
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      if (clock.fake.now() < 200) clock.sched.at(clock.fake.now() + 1, tick);
    };
    clock.sched.at(1, tick);
    const work = (async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(clock.sched, 30);
        await Promise.resolve();
        await (async () => Promise.resolve())();
        seen.push(clock.fake.now());
      }
    })();
    await clock.drive(work);
    expect(seen).toEqual([30, 60, 90, 120, 150]);
    expect(ticks).toBeGreaterThan(140);
  });

  it("gives the host a turn after 256 callbacks in a row that made no promise, and not before", async () => {
    const clock = new VirtualClock(0);
    const hostAt: number[] = [];
    // The host's own I/O: asks for a turn again each time it gets one.
    let hosting = true;
    const host = (): void => {
      hostAt.push(clock.fake.now());
      if (hosting) setImmediate(host);
    };
    const tick = (): void => {
      if (clock.fake.now() < 600) clock.sched.at(clock.fake.now() + 1, tick);
    };
    clock.sched.at(1, tick);
    const done = new Promise<void>((resolve) => clock.sched.at(700, resolve));
    setImmediate(host);
    await clock.drive(done);
    hosting = false;
    // One turn after every 256 quiet callbacks, then one when the last settles the run's promise.
    expect(hostAt.slice(0, 3)).toEqual([256, 512, 700]);
  });

  it("keeps its pace across a stretch with nothing due, however long, and runs what follows it", async () => {
    for (const speed of [1, 2, 50]) {
      const wall = new FakeScheduler(0);
      const clock = new VirtualClock(0, wall);
      clock.setPace({ speed, paused: false });
      const ran: number[] = [];
      // A timer at 100 ms, then nothing for 3 virtual seconds (a twins service's goodbye grace).
      clock.sched.at(100, () => ran.push(clock.sched.now()));
      const done = new Promise<void>((resolve) =>
        clock.sched.at(3100, () => {
          ran.push(clock.sched.now());
          resolve();
        }),
      );
      const driving = clock.drive(done);
      let over = false;
      void driving.then(() => {
        over = true;
      });
      while (!over && wall.now() < 20_000) {
        wall.advance(10);
        await new Promise((r) => setImmediate(r));
      }
      expect(over, `×${speed} got stuck at virtual ${clock.sched.now()} ms`).toBe(true);
      expect(ran).toEqual([100, 3100]);
      // At its pace: 3.1 virtual seconds in 3.1 / speed wall seconds, give or take a look.
      expect(wall.now()).toBeGreaterThanOrEqual(3100 / speed);
      expect(wall.now()).toBeLessThan(3100 / speed + 100);
    }
  });

  it("drops a debt when the host falls behind its pace, instead of racing to catch up", async () => {
    const wall = new FakeScheduler(0);
    const clock = new VirtualClock(0, wall);
    clock.setPace({ speed: 1, paused: false });
    const ran: number[] = [];
    for (let t = 100; t <= 10_000; t += 100) clock.sched.at(t, () => ran.push(wall.now()));
    const done = new Promise<void>((resolve) => clock.sched.at(10_000, resolve));
    const driving = clock.drive(done);
    await new Promise((r) => setImmediate(r));
    // The host stalls for 5 s: the timers due meanwhile run when it is back, then the pace resumes.
    wall.advance(5000);
    while (ran.length < 100 && wall.now() < 30_000) {
      await new Promise((r) => setImmediate(r));
      wall.advance(10);
    }
    await driving;
    // Not all 100 at once after the stall: the ones past the debt follow at the pace again.
    const atStall = ran.filter((t) => t === 5000).length;
    expect(atStall).toBeLessThan(100);
    expect(wall.now()).toBeGreaterThan(5000 + 1000);
  });

  it("throws when nothing is left to run and the run is not over", async () => {
    const clock = new VirtualClock(0);
    await expect(clock.drive(new Promise(() => {}))).rejects.toThrow(/nothing left to run/);
  });
});
