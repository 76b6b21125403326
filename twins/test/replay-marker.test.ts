/**
 * When a one-shot command counts the broker's retained replay as over (twins/replay-marker.ts): its
 * marker back and no retained message for the quiet time, never past the bound; a marker that never
 * comes back leaves the whole bound. On a fake clock and a fake connection.
 */
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { type MarkerClient, ReplayMarker, replayOver } from "../replay-marker.js";

/** A connection that echoes each marker when told to (`echo`), or refuses its subscription. */
function fakeConnection(refuse = false) {
  const sent: string[] = [];
  let marker: ReplayMarker | undefined;
  const client: MarkerClient = {
    connected: true,
    subscribeAsync: async () => [{ qos: refuse ? 128 : 0 }],
    publishAsync: async (_topic, payload) => sent.push(payload),
  };
  return {
    client,
    sent,
    attach: (m: ReplayMarker) => (marker = m),
    echo: (payload: string) => marker?.message(marker.topic, Buffer.from(payload)),
  };
}

/** Lets the fake connection's promises settle. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function setUp(refuse = false) {
  const sched = new FakeScheduler(0);
  const conn = fakeConnection(refuse);
  const marker = new ReplayMarker(
    { prefix: "tf", clientId: "tf-twins-1", scheduler: sched },
    () => conn.client,
  );
  conn.attach(marker);
  let lastAt = Number.NEGATIVE_INFINITY;
  let over: boolean | undefined;
  const start = (maxMs: number) =>
    void replayOver(sched, marker, () => lastAt, maxMs).then((o) => {
      over = o;
    });
  return {
    sched,
    conn,
    marker,
    start,
    retained: () => (lastAt = sched.now()),
    over: () => over,
  };
}

/** Not over yet 1 ms short of `ms` from now, and over (`over`: the marker's verdict) at `ms`. */
async function overAt(s: ReturnType<typeof setUp>, ms: number, over: boolean): Promise<void> {
  s.sched.advance(ms - 1);
  await settle();
  expect(s.over()).toBeUndefined();
  s.sched.advance(1);
  await settle();
  expect(s.over()).toBe(over);
}

describe("replayOver", () => {
  it("is over the quiet time after the marker came back, and no sooner", async () => {
    const s = setUp();
    s.start(20_000);
    await settle();
    expect(s.conn.sent).toEqual(["1"]);
    expect(s.marker.topic).toBe("tf/twins-probe/tf-twins-1/replay");
    s.sched.advance(10);
    s.conn.echo("1");
    await settle();
    await overAt(s, REPLAY_SETTLE_MS, true);
  });

  it("waits while retained messages still come after the marker, up to the bound", async () => {
    const s = setUp();
    s.start(3000);
    await settle();
    s.conn.echo("1");
    await settle();
    // A message every 400 ms: never quiet for 500 ms.
    for (let t = 0; t < 2800; t += 400) {
      s.sched.advance(400);
      s.retained();
      await settle();
      expect(s.over()).toBeUndefined();
    }
    s.sched.advance(200);
    await settle();
    expect(s.over()).toBe(false);
  });

  it("ends once the messages stop, the quiet time after the last", async () => {
    const s = setUp();
    s.start(20_000);
    await settle();
    s.conn.echo("1");
    await settle();
    s.sched.advance(300);
    s.retained();
    await settle();
    await overAt(s, REPLAY_SETTLE_MS, true);
  });

  it("takes a marker of another round trip for none of its own, and the whole bound without its own", async () => {
    const s = setUp();
    s.start(1500);
    await settle();
    s.conn.echo("7");
    await overAt(s, 1500, false);
  });

  it("waits the whole bound when the broker refuses the marker's subscription", async () => {
    const s = setUp(true);
    s.start(1500);
    await settle();
    expect(s.conn.sent).toEqual([]);
    await overAt(s, 1500, false);
  });

  it("waits 4 round trips of a slow marker", async () => {
    const s = setUp();
    s.start(20_000);
    await settle();
    s.sched.advance(200);
    s.conn.echo("1");
    await settle();
    await overAt(s, 800, true);
  });
});

describe("ReplayMarker.unanswered", () => {
  it("counts a marker published and never back (a broker that dropped it), not one refused or back", async () => {
    const s = setUp();
    s.start(1500);
    await settle();
    expect(s.marker.unanswered).toBe(1);
    s.sched.advance(1500);
    await settle();
    expect(s.over()).toBe(false);
    expect(s.marker.unanswered).toBe(1);
    s.conn.echo(s.conn.sent[0] ?? "");
    await settle();
    expect(s.marker.unanswered).toBe(0);
    const refused = setUp(true);
    refused.start(1500);
    await settle();
    expect(refused.marker.unanswered).toBe(0);
  });
});
