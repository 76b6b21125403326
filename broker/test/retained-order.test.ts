/**
 * A client's message published after its SUBSCRIBE reaches it after the retained messages that
 * SUBSCRIBE is answered with (broker/retained-order.ts), as from Mosquitto: the twins service's
 * replay marker, published to itself after subscribing, came back with most of a fleet's replay
 * still to come, and could not say the replay was over.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../server.js";
import { client, closeAll } from "./helpers.js";

const NODES = 3000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("a subscription's retained answer", { timeout: 60_000 }, () => {
  it.each(["in memory", "with a LevelDB data directory"])(
    "comes before a message the client publishes after the SUBACK (%s)",
    async (store) => {
      const dir =
        store === "in memory" ? undefined : await mkdtemp(join(tmpdir(), "twinfleet-retained-order-"));
      if (dir !== undefined) cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const broker = await startBroker({
        host: "127.0.0.1",
        port: 0,
        ...(dir !== undefined ? { dataDir: dir } : {}),
      });
      cleanups.push(() => broker.close());
      const pub = await client(broker.url, { clientId: "order-pub" });
      cleanups.push(() => closeAll(pub));
      for (let i = 0; i < NODES; i++)
        await pub.publishAsync(`tf/report/n-${i}`, `R1 1 ${i} n-${i}`, { qos: 1, retain: true });

      const sub = await client(broker.url, { clientId: "order-sub" });
      cleanups.push(() => closeAll(sub));
      let replayed = 0;
      let afterMarker = -1; // retained messages that came after the marker
      const back = new Promise<void>((resolve) => {
        sub.on("message", (topic, _payload, packet) => {
          if (topic === "tf/marker") {
            if (afterMarker < 0) afterMarker = 0;
            resolve();
          } else if (packet.retain) {
            replayed++;
            if (afterMarker >= 0) afterMarker++;
          }
        });
      });
      await sub.subscribeAsync("tf/marker", { qos: 0 });
      await sub.subscribeAsync("tf/report/+", { qos: 0 });
      await sub.publishAsync("tf/marker", "1", { qos: 0 });
      await back;
      // Every retained report, then nothing after the marker; once a later message is back, all are in.
      const second = new Promise<void>((resolve) =>
        sub.on("message", (t, p) => t === "tf/marker" && `${p}` === "2" && resolve()),
      );
      await sub.publishAsync("tf/marker", "2", { qos: 0 });
      await second;
      expect({ replayed, afterMarker }).toEqual({ replayed: NODES, afterMarker: 0 });
    },
  );
});
