/**
 * A client's messages on one topic reach every subscriber in the order it sent them [MQTT-4.6.0-6],
 * on every store (patches/aedes+1.2.0.patch): aedes handles the packets of one socket read at once,
 * and a retained one is emitted only after its store write, which on LevelDB finishes in any order.
 * A node's reports are retained: out of order, the twins took a newer one for stale.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../server.js";
import { client, closeAll } from "./helpers.js";

const PUBLISHERS = 8;
const EACH = 600;
/**
 * Each case's time limit, by its messages: each one is parsed, stored (the retained ones and the
 * subscriber's QoS 1 copy, on LevelDB), routed and acknowledged twice, on CPU the test shares with
 * the host. On a host at load average 21-29 the retained case took 32-41 s of the 30 s a test is
 * given by default (3 runs of 3); 25 ms a message is 120 s for the 4,800.
 */
const LIMIT_MS = PUBLISHERS * EACH * 25;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Mode = "retained" | "mixed";

/** Each publisher sends EACH numbered QoS 1 messages on its own topic at once; the subscriber's order. */
async function burst(url: string, mode: Mode): Promise<{ got: number; outOfOrder: number }> {
  const sub = await client(url, { clientId: "order-sub" });
  await sub.subscribeAsync("o/#", { qos: 1 });
  const pubs: MqttClient[] = [];
  for (let i = 0; i < PUBLISHERS; i++) pubs.push(await client(url, { clientId: `order-pub-${i}` }));
  cleanups.push(() => closeAll(sub, ...pubs));
  const last = new Map<string, number>();
  let got = 0;
  let outOfOrder = 0;
  const all = new Promise<void>((resolve) => {
    sub.on("message", (topic, payload) => {
      const n = Number(payload.toString());
      if (n < (last.get(topic) ?? -1)) outOfOrder++;
      last.set(topic, Math.max(n, last.get(topic) ?? -1));
      if (++got === PUBLISHERS * EACH) resolve();
    });
  });
  for (const [i, c] of pubs.entries()) {
    for (let k = 0; k < EACH; k++) {
      c.publish(`o/${i}`, String(k), { qos: 1, retain: mode === "retained" || k % 2 === 0 });
    }
  }
  await all;
  return { got, outOfOrder };
}

describe("one client's messages on one topic arrive in order", { timeout: LIMIT_MS }, () => {
  it.each(["retained", "mixed"] as const)("with a LevelDB data directory (%s)", async (mode) => {
    const dir = await mkdtemp(join(tmpdir(), "twinfleet-order-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: dir });
    cleanups.push(() => broker.close());
    expect(await burst(broker.url, mode)).toEqual({ got: PUBLISHERS * EACH, outOfOrder: 0 });
  });

  it("in memory (mixed)", async () => {
    const broker = await startBroker({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => broker.close());
    expect(await burst(broker.url, "mixed")).toEqual({ got: PUBLISHERS * EACH, outOfOrder: 0 });
  });
});
