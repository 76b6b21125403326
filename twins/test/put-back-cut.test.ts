/**
 * The put-back's look (twins/put-back.ts) after a Mosquitto with a short `max_queued_bytes`
 * restarted (not ran on) and cut the service's replay of the reports (twins/replay-cut.ts): a
 * report the re-read (twins/replay-reread.ts) left unread was taken as lost, and its twin's older
 * copy published retained over the broker's newer one. Unread is unknown, not lost: nothing goes back.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { WHOLE_TOPIC } from "../replay-cut.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { cutTopics, reread } from "../replay-reread.js";
import { ServiceSubscriptions } from "../subscriptions.js";
import { broker, fleet } from "./cutting-broker.js";
import { rig } from "./put-back-rig.js";

const ids = Array.from({ length: 40 }, (_, i) => `n-${String(i).padStart(4, "0")}`);
const report = (id: string) => `tf/report/${id}`;

/**
 * The service read the 40 nodes' reports (stamp 5) through a first connection and was stopped; they
 * pressed on (stamp 40) and the broker restarted on its store. Its replay of tf/report/+ is cut at
 * 200 bytes, and the re-read is given `max` SUBSCRIBEs; what came reaches the service as replayed.
 */
async function cutAfterRestart(max: number, lost?: string) {
  const kept = ids.filter((id) => id !== lost); // `lost`: a report the restarted broker no longer held
  const held = new Map<string, string>([[WHOLE_TOPIC, "mosquitto version 2.0.11"]]);
  for (const id of kept) held.set(report(id), `R1 1 40 ${id}`);
  const b = broker(held, 200);
  const x = rig({ cut: b.cut });
  x.connect("run-1");
  for (const id of ids) x.publish(report(id), `R1 0 5 ${id}`);
  x.scheduler.advance(60_000);
  if (lost !== undefined) x.held.delete(report(lost));
  for (const id of kept) x.held.set(report(id), `R1 1 40 ${id}`);
  // The new connection's read, as ServiceSubscriptions makes it.
  await b.cut.begin(b.client);
  await b.cut.subscribe(b.client, ["tf/report/+"]);
  const topics = cutTopics(
    Prefix("tf"),
    b.cut.read.cut,
    ids.map((id) => NodeId(id)),
  );
  const r = await reread(b.client, b.cut, topics, 63, max);
  b.cut.unread = r.unread;
  x.connect("run-2");
  for (const t of new Set(b.heard.filter((t) => t !== WHOLE_TOPIC))) x.replay(10, t);
  await x.run(REPLAY_SETTLE_MS * 4);
  return { x, b, unread: r.unread };
}

describe("a restarted broker that cut the reports' replay", () => {
  it("has no twin's report put back over the copies its re-read left unread (cut at the cap)", async () => {
    const { x, b, unread } = await cutAfterRestart(1);
    expect(x.restart.ranOn()).toBe(false);
    expect(b.cut.read.cut).toEqual(["tf/report/+"]);
    expect(unread.length).toBeGreaterThan(0);
    // Before: each unread node's 5 went back over the broker's 40, the newest state it held.
    expect(x.sent).toEqual([]);
    expect(ids.map((id) => x.stampOf(report(id)))).toEqual(ids.map((id) => `40@${id}`));
  });

  it("has none put back when the cut read is not re-read at all (the filter itself unread)", async () => {
    const { x } = await cutAfterRestart(0);
    expect(x.sent).toEqual([]);
    expect(ids.map((id) => x.stampOf(report(id)))).toEqual(ids.map((id) => `40@${id}`));
  });

  it("still puts back a report the broker lost, once the re-read read every other", async () => {
    const { x, unread } = await cutAfterRestart(2_000);
    expect(unread).toEqual([]);
    expect(x.sent).toEqual([]);
    // A node whose report the restarted broker no longer held: the re-read did not miss it, it is gone.
    const lost = await cutAfterRestart(2_000, "n-0039");
    expect(lost.unread).toEqual([]);
    expect(lost.x.sent).toEqual(["n-0039 5@n-0039"]);
    expect(lost.x.stampOf(report("n-0039"))).toBe("5@n-0039");
  });
});

describe("what a connection's read left unread, kept for the look", () => {
  const read = async (again: boolean) => {
    const b = broker(fleet(300), 200);
    const known = () => Array.from({ length: 300 }, (_, i) => NodeId(`n-${String(i).padStart(4, "0")}`));
    const handler = again ? { known, told: () => {} } : undefined;
    const opts = { focus: [], url: "mqtt://mosquitto:1883" };
    const subs = new ServiceSubscriptions(
      Prefix("tf"),
      pino({ level: "silent" }),
      undefined,
      opts,
      b.cut,
      handler,
    );
    await subs.subscribe(b.client);
    return b.cut.unread;
  };

  it("is nothing once the re-read brought every topic, and the cut filters when none was made", async () => {
    expect(await read(true)).toEqual([]);
    expect(await read(false)).toEqual(["tf/config/+", "tf/status/+", "tf/report/+"]);
  });
});
