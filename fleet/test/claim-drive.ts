/**
 * What the tests of a claim held against a real broker share: the fake clock moved on while the
 * claim's real I/O goes on, and the claims a broker holds, read by a client of their own.
 */
import { client, nextMessage } from "../../broker/test/helpers.js";
import type { FakeScheduler } from "../../node/scheduler.js";

/** Moves the fake clock on, 50 ms a step, until `done()` (the claim's I/O is real: each step waits a little). */
export async function drive(sched: FakeScheduler, done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) {
    sched.advance(50);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!done()) throw new Error(`not seen within 100 s of the fake clock: ${what}`);
}

/** The claims under `prefix` the broker at `url` holds, topic → payload. */
export async function claimsHeld(url: string, prefix: string): Promise<Record<string, string>> {
  const c = await client(url);
  const got: Record<string, string> = {};
  c.on("message", (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) got[topic] = payload.toString();
  });
  await c.subscribeAsync([`${prefix}/claim/+`, "marker"]);
  const marked = nextMessage(c, "marker");
  await c.publishAsync("marker", "m");
  await marked;
  await c.endAsync();
  return got;
}
