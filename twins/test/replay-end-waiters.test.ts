/**
 * The other waits for the replay's end take the one of twins/replay-end.ts (the replay marker back,
 * then the quiet time): the look at a reconnect to a broker that ran on for twins online with no
 * register (twins/reconnect-query.ts), and the watch of the other services' presences
 * (twins/other-services.ts). Both ended on the quiet time alone: a replay pausing 2 s mid-way on a
 * loaded host had them judge from a part of it. On the fake clock of twins/test/put-back-rig.ts.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Prefix } from "../../protocol/index.js";
import { OtherServices } from "../other-services.js";
import type { TwinsServiceInfo } from "../presence.js";
import { connectQueryOf } from "../reconnect-query.js";
import { REPLAY_SETTLE_MS, REPLAY_WAIT_MAX_MS } from "../replay-end.js";
import { rig } from "./put-back-rig.js";

const silent = pino({ level: "silent" });

describe("a replay pausing 2 s mid-way, its marker back after it", () => {
  it("has the reconnect's look query for a node that came online meanwhile once the replay is over", async () => {
    const x = rig({ marker: true });
    const queries: number[] = [];
    const site = { url: "mqtt://broker", prefix: "tf", passive: false, queryOnReconnect: false };
    const q = connectQueryOf(
      { ...site, queryOnConnect: true, scheduler: x.scheduler, logger: silent },
      { restart: x.restart },
      x.r,
      x.end,
      async () => void queries.push(x.scheduler.now()),
    );
    x.connect("run-1");
    await q.connected(false);
    x.publish("tf/status/A", "T1 1");
    x.publish("tf/register/A", "G1 sim uno-w5100 1.0.0");
    x.marker(10);
    await x.run(60_000);
    // Away: B came online meanwhile, on the broker alone; the broker ran on.
    x.held.set("tf/status/B", "T1 1");
    x.connect("run-1");
    const at = x.scheduler.now();
    await q.connected(true);
    x.replay(100, "tf/status/A");
    x.replay(2_100, "tf/status/B");
    x.marker(2_150);
    await x.run(3_000);
    // Before: the look at the first quiet (600 ms) found nobody to ask, and B was queried only at
    // the replay's longest wait, 10 s on, its pending pairings and sets sent that much later.
    expect(queries).toEqual([0, at + 2_150 + REPLAY_SETTLE_MS]);
    await x.run(REPLAY_WAIT_MAX_MS);
    expect(queries).toHaveLength(2);
  });

  it("has the other services' presences told once, in one line, when the replay is over", async () => {
    const x = rig({ marker: true });
    const told: (readonly TwinsServiceInfo[])[] = [];
    const opts = { prefix: Prefix("tf"), clientId: "tf-twins-me", startedAt: 1000 };
    const w = new OtherServices(
      { ...opts, scheduler: x.scheduler, logger: silent },
      (s) => told.push(s),
      x.replayMarker,
    );
    const presence = (afterMs: number, id: string, since: number) =>
      x.scheduler.at(x.scheduler.now() + afterMs, () =>
        w.message(`tf/control/${id}`, Buffer.from(`P1 ${since}`), true),
      );
    await w.subscribe({ subscribeAsync: async () => undefined, publishAsync: async () => undefined });
    presence(100, "tf-twins-a", 10);
    presence(2_100, "tf-twins-b", 20);
    x.marker(2_150);
    await x.run(1_900);
    // Before: told at the first quiet (600 ms) as the only other service, then b in a second line.
    expect(told).toEqual([]);
    await x.run(1_000);
    expect(told).toEqual([
      [
        { clientId: "tf-twins-a", since: 10 },
        { clientId: "tf-twins-b", since: 20 },
      ],
    ]);
  });
});
