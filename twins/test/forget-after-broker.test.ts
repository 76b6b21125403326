/**
 * `forgetAfterMs` (`twins --forget-after`) on a real broker, the service's clock a FakeScheduler: a
 * node silent past the span is retired as `forget` retires it (nothing of it left retained), an
 * online node and one seen within the span are kept, and the clocks survive a restart of the service
 * (the stored last-seen dates: a node last heard 45 min before the start goes at the look 15 min
 * into the run, with a span of an hour).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import type { Twins } from "../service.js";
import { jsonFileStore } from "../store.js";
import { Fixtures, type TestBroker, until } from "./helpers.js";
import { when } from "./poll.js";

const HOUR = 3_600_000;
const MIN = 60_000;
const fx = new Fixtures();
const dirs: string[] = [];
afterEach(async () => {
  await fx.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Retained {
  createRetainedStream(pattern: string): AsyncIterable<{ readonly topic: string }>;
}

/** The topics the broker holds a retained message on under `pattern`. */
async function retainedOn(b: TestBroker, pattern: string): Promise<string[]> {
  const out: string[] = [];
  const store = (b.aedes as unknown as { persistence: Retained }).persistence;
  for await (const p of store.createRetainedStream(pattern)) out.push(p.topic);
  return out.sort();
}

/** Waits (bounded) until the broker holds `n` retained messages under `pattern`. */
async function retainedCount(b: TestBroker, pattern: string, n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await retainedOn(b, pattern)).length === n) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`${pattern}: not ${n} retained (${(await retainedOn(b, pattern)).join(", ")})`);
}

async function service(dir: string, sched: FakeScheduler): Promise<Twins> {
  // No probe: the stepped clock would tell the broker silent.
  return fx.twins({ store: await jsonFileStore(dir), scheduler: sched, probe: false, forgetAfterMs: HOUR });
}

it("retires a node silent past the span, clearing what the broker kept of it, keeps an online one and one seen within the span, and keeps the clocks over a restart", async () => {
  const broker = await fx.broker();
  const dir = await mkdtemp(join(tmpdir(), "twins-forget-after-"));
  dirs.push(dir);
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  const t = await service(dir, sched);
  const a = await fx.node("A");
  await fx.node("B");
  const c = await fx.node("C");
  await until(() => ["A", "B", "C"].every((id) => t.get(id)?.presence === "online"), "A, B, C online");
  await retainedCount(broker, "tf/+/A", 2); // its status and report
  sched.advance(10_000); // the re-read of the retained state is over
  await a.stop();
  await until(() => t.get("A")?.presence === "offline", "A offline");
  sched.advance(30 * MIN);
  const heard = t.get("C")?.lastSeen;
  c.press(); // C heard at 30 min: its report
  await until(() => t.get("C")?.lastSeen !== heard, "C's press heard");
  await c.stop();
  await until(() => t.get("C")?.presence === "offline", "C offline");
  sched.advance(10 * MIN);
  expect(t.list().map((x) => x.id)).toEqual(["A", "B", "C"]); // A silent 40 min: under the span
  await t.close();

  // Started again 5 minutes later (by the host's clock), on the same store.
  const later = new FakeScheduler(0, sched.wallNow() + 5 * MIN);
  const forgotten: string[] = [];
  const t2 = await service(dir, later);
  t2.on("twin-silent-forgotten", (id) => forgotten.push(id));
  await until(() => t2.get("B")?.presence === "online", "B online again");
  later.advance(10_000); // the re-read is over (after 0.5 s of quiet)
  later.advance(13 * MIN + 50_000); // the sweep at 14 min: A silent 59 min 10 s, less the re-read's
  expect(t2.get("A")).toBeDefined();
  // The sweep at 15 min, the clock left there: the broker's acks are awaited on it (10 s).
  later.advance(MIN);
  await when(() => forgotten.length > 0);
  expect(forgotten).toEqual(["A"]);
  expect(t2.get("A")).toBeUndefined();
  await retainedCount(broker, "tf/+/A", 0); // cleared before the twin went: nothing of A retained
  expect(t2.list().map((x) => x.id)).toEqual(["B", "C"]);
  expect(await retainedOn(broker, "tf/+/B")).toEqual(["tf/report/B", "tf/status/B"]);
});
