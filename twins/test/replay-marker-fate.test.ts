/**
 * What a one-shot command makes of its replay marker not back when the replay's wait ended
 * (ReplayMarker.fate): a second marker published behind it tells a drop (the second passed it: one
 * connection keeps its order) from a slow broker or host (neither back), and from a broker that took
 * the second (its PUBACK) and sent neither back (access rules denying the write). On a fake clock and
 * a fake connection that echoes the markers, and acknowledges them, as it is told to.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { type MarkerClient, type MarkerFate, ReplayMarker, replayOver } from "../replay-marker.js";

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A marker whose first round trip is under way, its replay's wait of 1.5 s run out. */
async function markerOut() {
  const sched = new FakeScheduler(0);
  const sent: string[] = [];
  const pubacks = new Map<string, () => void>();
  const client: MarkerClient = {
    connected: true,
    subscribeAsync: async () => [{ qos: 0 }],
    publishAsync: (_topic, payload) => {
      sent.push(payload);
      return new Promise<void>((resolve) => pubacks.set(payload, resolve));
    },
  };
  /** The broker's PUBACK of a marker. */
  const ack = (payload: string) => pubacks.get(payload)?.();
  const marker = new ReplayMarker({ prefix: "tf", clientId: "tf-twins-1", scheduler: sched }, () => client);
  const echo = (payload: string) => marker.message(marker.topic, Buffer.from(payload));
  let over: boolean | undefined;
  void replayOver(sched, marker, () => Number.NEGATIVE_INFINITY, 1500).then((o) => {
    over = o;
  });
  await settle();
  sched.advance(1500);
  await settle();
  expect(over).toBe(false);
  expect(marker.unanswered).toBe(1);
  let fate: MarkerFate | undefined;
  const judge = (maxMs: number) =>
    void marker.fate(maxMs).then((f) => {
      fate = f;
    });
  return { sched, sent, marker, echo, ack, judge, fate: () => fate };
}

describe("ReplayMarker.fate", () => {
  it("is nothing when no marker is out", async () => {
    const sched = new FakeScheduler(0);
    const marker = new ReplayMarker({ prefix: "tf", clientId: "c", scheduler: sched }, () => undefined);
    await expect(marker.fate(1500)).resolves.toEqual({ dropped: 0 });
  });

  it("calls the marker dropped once a second one, published behind it, came back first", async () => {
    const s = await markerOut();
    s.judge(1500);
    await settle();
    expect(s.sent).toEqual(["1", "2"]);
    s.sched.advance(40);
    s.echo("2");
    await settle();
    expect(s.fate()).toEqual({ dropped: 1 });
  });

  it("calls the marker slow, not dropped, when neither came back within the extra wait", async () => {
    const s = await markerOut();
    s.judge(1500);
    await settle();
    s.sched.advance(1499);
    await settle();
    expect(s.fate()).toBeUndefined();
    s.sched.advance(1);
    await settle();
    expect(s.fate()).toEqual({ dropped: 0, notBackMs: 3000 });
  });

  it("calls the markers taken and not sent back when the broker acknowledged the second and sent neither", async () => {
    const s = await markerOut();
    s.judge(1500);
    await settle();
    s.ack("1");
    s.ack("2");
    s.sched.advance(1500);
    await settle();
    // It said slow, as of a broker that had not handled them.
    expect(s.fate()).toEqual({ dropped: 0, notBackMs: 3000, acknowledged: true });
  });

  it("says nothing once the slow marker came back during the extra wait, and ends then", async () => {
    const s = await markerOut();
    s.judge(1500);
    await settle();
    s.sched.advance(700);
    s.echo("1");
    await settle();
    expect(s.fate()).toEqual({ dropped: 0 });
    expect(s.marker.unanswered).toBe(1); // the second, still on its way
  });
});
