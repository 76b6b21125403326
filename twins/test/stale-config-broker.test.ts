/**
 * An older config written live for a node while it is away replaces the broker's copy (configs are
 * retained), and a node that boots takes its pairing from that copy. The write is still stale (bad
 * input), but the pairing confirmed before is pending again and sent to the node once online. It was
 * dropped alone: the node booted following nobody while the service showed it following C and B,
 * confirmed, for good.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { Fixtures, rawClient, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(async () => {
  await fx.close();
});

describe("an older config written for a node while it is away", () => {
  it("makes the confirmed pairing pending, and the node that boots from it is sent the pairing", async () => {
    const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
    fx.url = b.url;
    const t = await fx.twins();
    await fx.node("B");
    await fx.node("C");
    const a = await fx.node("A");
    await until(
      () => ["A", "B", "C"].every((id) => t.get(id)?.presence === "online" && t.get(id)?.kind),
      "A, B and C online",
    );
    await t.pair("A", "C");
    await t.pair("A", "B");
    await until(
      () => t.get("A")?.pairing === "confirmed" && t.get("A")?.follows.join() === "C,B",
      "A follows C and B",
    );
    const version = t.get("A")?.config?.version ?? 0;
    expect(version).toBeGreaterThan(1);
    await a.powerOff();
    await until(() => t.get("A")?.presence === "offline", "A offline");

    // What a tool holding an older state writes (`twinfleet sim --broker --topology none` over the
    // fleet did): version 1, following nobody, retained.
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "C1 1", { qos: 1, retain: true });
    await until(() => (t.badInput().byReason["stale-config"] ?? 0) > 0, "the stale write counted");
    expect(t.get("A")).toMatchObject({ pairing: "pending", desired: { sources: ["C", "B"] } });

    const back = await fx.node("A"); // boots from the broker's copy: version 1, nobody
    await until(() => back.state.sources.join() === "C,B", "the service sent A its pairing");
    await until(() => t.get("A")?.pairing === "confirmed", "confirmed again");
    expect(t.get("A")?.follows).toEqual(["C", "B"]);
  });
});
