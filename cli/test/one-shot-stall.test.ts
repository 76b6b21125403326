/**
 * A one-shot command (`set`, `pair`, `nodes`, …) stopped while it waits (Ctrl-Z, SIGSTOP, a paused
 * VM): its timer runs out as it runs again, before it reads what waited in its socket. The wait is
 * judged after that I/O, and given once more when it ran out in the command's own stall; a connection
 * that timed out in the stall is made again (cli/commands/one-shot-wait.ts). The clock is a
 * FakeScheduler jumped as a stopped host's is, with the stall watch on it.
 */
import { EventEmitter } from "node:events";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { BrokerConnectError } from "../../twins/index.js";
import { connectOnce, type OneShotClock, settle } from "../commands/one-shot-wait.js";

function clock(): OneShotClock & { readonly scheduler: FakeScheduler } {
  const scheduler = new FakeScheduler(0);
  return { scheduler, stalls: new StallWatch(scheduler) };
}

/** Whether a promise has settled, after the turns a socket's data would take to be read. */
async function outcome(p: Promise<boolean>): Promise<boolean | "pending"> {
  const pending = Symbol();
  await new Promise((r) => setImmediate(r));
  const v = await Promise.race([p, new Promise<typeof pending>((r) => setImmediate(() => r(pending)))]);
  return v === pending ? "pending" : v;
}

it("a confirmation that waited in the socket during the stall is read before the wait is judged", async () => {
  const c = clock();
  const updates = new EventEmitter();
  let answered = false;
  const waiting = settle(c, updates, () => answered, 1000);
  // The command did not run for 15 s; the node's answer came meanwhile and is read in the same turn
  // as the timer that ran out (Node polls its sockets after its timers).
  c.scheduler.jump(15_000);
  answered = true;
  updates.emit("twin-updated");
  expect(await outcome(waiting)).toBe(true);
});

it("a wait run out in the command's own stall is given once more, and one with no stall is not", async () => {
  const c = clock();
  const updates = new EventEmitter();
  let answered = false;
  const waiting = settle(c, updates, () => answered, 1000);
  c.scheduler.jump(15_000);
  // Nothing in the socket yet: the command had sent its set just before it was stopped.
  expect(await outcome(waiting)).toBe("pending");
  c.scheduler.advance(400);
  answered = true;
  updates.emit("twin-updated");
  expect(await outcome(waiting)).toBe(true);

  // The same wait on a clock that did not stall: run out after its 1 s, false.
  const quiet = clock();
  const alone = settle(quiet, new EventEmitter(), () => false, 1000);
  quiet.scheduler.advance(999);
  expect(await outcome(alone)).toBe("pending");
  quiet.scheduler.advance(1);
  expect(await outcome(alone)).toBe(false);
});

it("given once more per wait: a node that stays silent after the stall is told as before", async () => {
  const c = clock();
  const waiting = settle(c, new EventEmitter(), () => false, 1000);
  c.scheduler.jump(15_000);
  expect(await outcome(waiting)).toBe("pending");
  c.scheduler.advance(1000);
  expect(await outcome(waiting)).toBe(false);
});

it("a connection that timed out in the command's own stall is made again, once, and says so", async () => {
  const said: string[] = [];
  const stall = { startMs: 1000, endMs: 8200 };
  const stalled = new BrokerConnectError("no answer yet", "timeout", true, stall);
  let calls = 0;
  const t = await connectOnce(
    async () => {
      calls++;
      if (calls === 1) throw stalled;
      return "connected";
    },
    (m) => said.push(m),
  );
  expect(t).toBe("connected");
  expect(said).toEqual([
    "the command did not run for 7.2 s while it connected (its host stopped or paused it: its own stall, not the broker's): connecting again",
  ]);

  // A broker that did not answer, with no stall: failed at once, as before.
  calls = 0;
  const silent = new BrokerConnectError("no answer (CONNACK) within 5000 ms", "timeout");
  await expect(
    connectOnce(
      async () => {
        calls++;
        throw silent;
      },
      (m) => said.push(m),
    ),
  ).rejects.toBe(silent);
  expect(calls).toBe(1);

  // Stalled twice: the second failure is told.
  calls = 0;
  await expect(
    connectOnce(
      async () => {
        calls++;
        throw stalled;
      },
      () => {},
    ),
  ).rejects.toBe(stalled);
  expect(calls).toBe(2);
});
