/**
 * The service's re-read of a replay the broker cut (twins/replay-reread.ts), against a client that
 * answers as Mosquitto does (./cutting-broker.ts). `twinfleet twins` on a Mosquitto at
 * `max_queued_bytes 200` beside 300 nodes listed 50, with 19 configs and 15 reports, at its start and
 * after the broker's restart, and its log said nothing of it but, when it came within Mosquitto's
 * `sys_interval`, a rise of the broker's dropped count.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type NodeId, Prefix, parseTopic } from "../../protocol/index.js";
import { WHOLE_TOPIC } from "../replay-cut.js";
import { REREAD_MAX_SUBSCRIBES, reread } from "../replay-reread.js";
import { FILTERS_PER_SUBSCRIBE, ServiceSubscriptions } from "../subscriptions.js";
import type { ReplayCutTold } from "../types.js";
import { broker, fleet } from "./cutting-broker.js";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n-${String(i).padStart(4, "0")}` as NodeId);

/** The service's subscriptions on `b`, knowing `stored` nodes (its store) and those any replay told. */
async function service(b: ReturnType<typeof broker>, stored: readonly NodeId[] = []) {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const told: ReplayCutTold[] = [];
  const known = () => {
    const heard = b.heard.flatMap((t) => {
      const p = t.startsWith("tf/") ? parseTopic(Prefix("tf"), t) : undefined;
      return p !== undefined && p.kind !== "query" ? [p.node] : [];
    });
    return [...new Set([...stored, ...heard])];
  };
  const opts = { focus: [], url: "mqtt://mosquitto:1883" };
  const subs = new ServiceSubscriptions(Prefix("tf"), logger, undefined, opts, b.cut, {
    known,
    told: (t) => told.push(t),
  });
  await subs.subscribe(b.client);
  const nodeTopics = new Set(b.heard.filter((t) => t.startsWith("tf/")));
  return { lines, told, nodeTopics, known };
}

describe("the twins service's read of a replay the broker cut", () => {
  it("asks again, node by node, for every node it knows, and tells it with the setting to change", async () => {
    const b = broker(fleet(300), 200);
    const s = await service(b, ids(300));
    // Every node's config, status and report, where the cut replay gave 19, 50 and 15.
    expect(s.nodeTopics.size).toBe(900);
    expect(s.told).toHaveLength(1);
    const t = s.told[0]!;
    expect(t).toMatchObject({ cut: ["tf/config/+", "tf/status/+", "tf/report/+"], unread: [], nodes: 300 });
    expect(t.subscribes).toBeLessThan(REREAD_MAX_SUBSCRIBES);
    const warn = s.lines.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warn).toHaveLength(1);
    expect(warn[0]).toContain(
      "the broker at mqtt://mosquitto:1883 cut its replay of the retained messages on tf/config/+, tf/status/+, tf/report/+",
    );
    expect(warn[0]).toContain("the service read 300 nodes");
    expect(warn[0]).toContain("set max_queued_bytes 0 and max_queued_messages 0 in mosquitto.conf");
    // Each SUBSCRIBE within the broker's limit, and each node's filter dropped once its replay came.
    expect(Math.max(...b.packets.map((p) => p.length))).toBeLessThanOrEqual(FILTERS_PER_SUBSCRIBE);
    const perNode = b.packets.flat().filter((f) => /^tf\/\w+\/n-/.test(f));
    expect(new Set(b.unsubscribed.flat())).toEqual(new Set([...perNode, WHOLE_TOPIC]));
  });

  it("makes whole the nodes the cut replay told of, and counts only those as read", async () => {
    const b = broker(fleet(300), 200);
    const s = await service(b);
    expect(s.known()).toHaveLength(50);
    for (const id of s.known())
      for (const kind of ["config", "status", "report"]) expect(s.nodeTopics).toContain(`tf/${kind}/${id}`);
    expect(s.told[0]).toMatchObject({ unread: [], nodes: 50 });
    expect(s.lines.find((l) => l.level === 40)?.msg).toContain(
      "a node none of whose retained messages came is not known until it is heard live",
    );
  });

  it("reads a message larger than the whole queue (Mosquitto queues the first of a SUBSCRIBE whatever its size)", async () => {
    const retained = fleet(100);
    retained.set("tf/config/n-0042", `C1 3 ${ids(40).join(" ")}`);
    const b = broker(retained, 200);
    const s = await service(b, ids(100));
    expect(s.told[0]).toMatchObject({ unread: [], nodes: 100 });
    expect(s.nodeTopics.size).toBe(300);
    expect(s.nodeTopics).toContain("tf/config/n-0042");
  });

  it("sends at most the bound of SUBSCRIBEs, telling what is left unread", async () => {
    const b = broker(fleet(300), 200);
    await b.cut.begin(b.client);
    const topics = ids(300).map((id) => `tf/status/${id}`);
    const r = await reread(b.client, b.cut, topics, FILTERS_PER_SUBSCRIBE - 1, 5);
    expect(r.subscribes).toBe(5);
    expect(r.unread.length + b.heard.filter((t) => t.startsWith("tf/status/")).length).toBe(300);
    expect(r.unread.length).toBeGreaterThan(0);
  });

  it("asks nothing again and tells nothing on a whole replay (3,000 nodes, no limit) or a broker not judged", async () => {
    for (const b of [broker(fleet(3000), 0), broker(fleet(300, false), 200)]) {
      const s = await service(b, ids(300));
      expect(s.told).toEqual([]);
      expect(s.lines.filter((l) => l.level >= 40)).toEqual([]);
      expect(b.packets.flat().some((f) => /^tf\/\w+\/n-/.test(f))).toBe(false);
    }
  });
});
