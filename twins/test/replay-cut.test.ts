/**
 * Whether the broker cut a one-shot command's replay of the retained state (twins/replay-cut.ts),
 * against a client that answers as Mosquitto does: one SUBSCRIBE's retained messages queued before
 * any is written, each dropped once the queued bytes reach `max_queued_bytes`, then written in order
 * before the next packet's answer. `twinfleet nodes` on a Mosquitto at `max_queued_bytes 200` beside
 * 300 nodes listed 50 and, in most tries, said nothing.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { ReplayCut, WHOLE_TOPIC } from "../replay-cut.js";
import { FILTERS_PER_SUBSCRIBE, ServiceSubscriptions } from "../subscriptions.js";
import { broker, fleet } from "./cutting-broker.js";

const nodeTopic = (f: string) => /^tf\/(config|status|report|register)\//.test(f);

const subscribed = async (b: ReturnType<typeof broker>, focus: readonly string[] = []) => {
  const subs = new ServiceSubscriptions(
    Prefix("tf"),
    pino({ level: "silent" }),
    undefined,
    { focus: focus.map(NodeId) },
    b.cut,
  );
  await subs.subscribe(b.client);
  return b.cut.read;
};

describe("a one-shot command's check of the broker's replay", () => {
  it("finds nothing cut when each replay came whole, its copy asked last in each SUBSCRIBE of the nodes", async () => {
    const b = broker(fleet(300), 0);
    expect(await subscribed(b)).toEqual({ held: true, cut: [] });
    const nodes = b.packets.filter((p) => p.some(nodeTopic));
    expect(nodes.map((p) => p.at(-1))).toEqual(nodes.map(() => WHOLE_TOPIC));
    expect(b.heard.filter((t) => t.startsWith("tf/")).length).toBe(900);
  });

  it("names each replay a short queue cut (max_queued_bytes 200, 300 nodes)", async () => {
    const b = broker(fleet(300), 200);
    const read = await subscribed(b, ["n-0299"]);
    expect(read).toEqual({ held: true, cut: ["tf/config/+", "tf/status/+", "tf/report/+"] });
    // The node named came whole, in its own SUBSCRIBE.
    expect(b.heard).toContain("tf/config/n-0299");
    expect(b.heard.filter((t) => t.startsWith("tf/status/")).length).toBeLessThan(300);
  });

  it("finds nothing cut on a queue that holds the replay just so", async () => {
    // The largest replay, the reports', is under 300 × 15 bytes.
    const b = broker(fleet(300), 300 * 15 + 1);
    expect(await subscribed(b)).toEqual({ held: true, cut: [] });
  });

  it("names the nodes' own SUBSCRIBE when even it was cut, each in at most FILTERS_PER_SUBSCRIBE filters", async () => {
    const focus = Array.from({ length: 100 }, (_, i) => `n-${String(i).padStart(4, "0")}`);
    const b = broker(fleet(300), 200);
    const read = await subscribed(b, focus);
    expect(read.cut).toContain("tf/config/n-0000");
    expect(Math.max(...b.packets.map((p) => p.length))).toBeLessThanOrEqual(FILTERS_PER_SUBSCRIBE);
  });

  it("judges nothing on a broker that does not hold the topic (twinfleet's, aedes) or refuses it", async () => {
    for (const b of [broker(fleet(300, false), 200), broker(fleet(300), 200, [WHOLE_TOPIC])]) {
      expect(await subscribed(b)).toEqual({ held: false, cut: [] });
      const nodes = b.packets.filter((p) => p.some(nodeTopic));
      expect(nodes.some((p) => p.includes(WHOLE_TOPIC))).toBe(false);
    }
  });

  it("counts only retained copies: a live one published as it asks is not the broker holding it", async () => {
    const cut = new ReplayCut();
    const client = {
      subscribeAsync: async () => [{ qos: 0 }],
      unsubscribeAsync: async () => cut.message(WHOLE_TOPIC, false),
    };
    await cut.begin(client);
    expect(cut.read).toEqual({ held: false, cut: [] });
    expect(cut.message("tf/config/a", true)).toBe(false);
  });
});
