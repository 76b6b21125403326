/**
 * The member watch of a Redis cluster on virtual time: a member whose beats stop while this broker's
 * own come round through Redis is told lost once, 5 s on, and back when it beats again; a frozen Redis
 * (every beat held, then delivered at once) takes no member for lost, however long it lasts, and a
 * member that died meanwhile is told 5 s after Redis answers again, not at once.
 */
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { MemberWatch } from "../member-watch.js";

/** Two members on one bus (Redis pub/sub) that can be frozen: beats held until it thaws. */
function setup() {
  const sched = new FakeScheduler();
  const told: string[] = [];
  let frozen = false;
  let bAlive = true;
  const held: string[] = [];
  const watch = new MemberWatch("a", sched, {
    beat: () => send("a"),
    lost: (id, ms) => told.push(`lost ${id} ${ms}`),
    back: (id, ms) => told.push(`back ${id} ${ms}`),
  });
  const send = (id: string) => (frozen ? held.push(id) : watch.beatOf(id));
  // Member b beats every second, half a beat after a.
  sched.at(500, function beatB() {
    if (bAlive) send("b");
    sched.at(sched.now() + 1000, beatB);
  });
  watch.start();
  return {
    sched,
    told,
    watch,
    kill: () => {
      bAlive = false;
    },
    revive: () => {
      bAlive = true;
    },
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const id of held.splice(0)) watch.beatOf(id);
    },
  };
}

it("tells a member lost 5 s after its last beat while its own beats come round, once, and back when it beats again", () => {
  const c = setup();
  c.sched.advance(10_000);
  expect(c.told).toEqual([]);
  c.kill(); // its last beat at 9.5 s
  c.sched.advance(4_000);
  expect(c.told).toEqual([]);
  c.sched.advance(2_000);
  expect(c.told).toEqual(["lost b 5500"]);
  expect(c.watch.lost()).toEqual(["b"]);
  c.sched.advance(20_000);
  expect(c.told).toHaveLength(1);
  c.revive();
  c.sched.advance(1_000);
  expect(c.told[1]).toMatch(/^back b \d+$/);
  expect(c.watch.lost()).toEqual([]);
});

it("takes no member for lost while Redis is frozen, however long, nor when it answers again", () => {
  const c = setup();
  c.sched.advance(10_000);
  c.freeze();
  c.sched.advance(300_000);
  c.thaw();
  c.sched.advance(30_000);
  expect(c.told).toEqual([]);
});

it("tells a member that died while Redis was frozen 5 s after Redis answers again, not at once", () => {
  const c = setup();
  c.sched.advance(10_000);
  c.freeze();
  c.kill();
  c.sched.advance(60_000);
  c.thaw(); // a's held beats come round; b's last real beat is 60 s old
  c.sched.advance(1_000);
  expect(c.told).toEqual([]);
  c.sched.advance(3_900);
  expect(c.told).toEqual([]);
  c.sched.advance(1_100);
  expect(c.told).toHaveLength(1);
  expect(c.told[0]).toMatch(/^lost b \d+$/);
});

it("tells lost a member known only by the wills it left, never heard beating (it died before this one started)", () => {
  const c = setup();
  c.sched.advance(2_000);
  c.watch.known("z"); // read from the store at the start
  c.watch.known("b"); // heard already: unchanged
  c.sched.advance(4_900);
  expect(c.told).toEqual([]);
  c.sched.advance(200);
  expect(c.told).toEqual(["lost z 5000"]);
});
