/**
 * The origin wait (twins/origin-wait.ts) and the config replay wait (twins/broker-copy.ts
 * ConfigReplayWait) end where the put-back's look does (twins/replay-end.ts): at the replay marker,
 * then the quiet time; not at the first quiet. A broker restarted on its store (or one that says
 * nothing of its starts) whose replay paused past the quiet time on a loaded host had a node that
 * registered meanwhile shown following nobody, its pairing sent again, and an honest report told
 * `spoofed-origin`, judged against a part of the configs.
 */
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { rig } from "./put-back-rig.js";

const A = NodeId("A");
const B = NodeId("B");

/**
 * A follows B, known from a first connection; the service then away while B, following D, was paired
 * on the broker alone. It subscribes again: the broker's replay pauses 2 s before the configs (as on a
 * loaded host), and meanwhile A registers and reports a press of D's, which B's config explains.
 */
function pausedReplay(startId: string | undefined, opts: { readonly marker?: boolean } = {}) {
  const x = rig({ marker: true, ...opts });
  x.connect("run-1");
  x.publish("tf/config/A", "C1 1 B");
  x.publish("tf/report/A", "R1 1 5 A");
  x.scheduler.advance(60_000);
  x.held.set("tf/config/B", "C1 1 D");
  x.connect(startId);
  x.scheduler.at(100, () => x.publish("tf/register/A", "G1 sim uno-w5100 1.0.0"));
  x.scheduler.at(150, () => x.publish("tf/report/A", "R1 1 12 D"));
  x.replay(2_000, "tf/config/A");
  x.replay(2_000, "tf/config/B");
  return x;
}

describe.each([
  ["restarted on its store", "run-2"],
  ["saying nothing of its starts", undefined],
] as const)("a broker %s, its replay pausing past the quiet time", (_, startId) => {
  it("judges the register and the report against the configs it replays after the pause", async () => {
    const x = pausedReplay(startId);
    x.marker(2_050);
    await x.run(1_900);
    // Before: at the first quiet, A was taken for a node that booted following nobody (its pairing
    // pending again, and sent), and A's report for spoofed: D was not upstream of A under the configs so far.
    expect(x.r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    await x.run(150 + REPLAY_SETTLE_MS + 100);
    expect(x.applied).not.toContainEqual({ type: "reconcile", node: A });
    expect(x.r.get(A)).toMatchObject({ pairing: "confirmed", follows: ["B"] });
    expect(x.r.badInput().byReason["spoofed-origin"] ?? 0).toBe(0);
    expect(x.r.get(B)?.follows).toEqual(["D"]);
    expect(x.r.get(A)?.reported?.stamp).toEqual({ counter: 12, origin: "D" });
    expect(x.sent).toEqual([]);
  });

  it("still ends on quiet alone, with no marker", async () => {
    const x = pausedReplay(startId, { marker: false });
    await x.run(REPLAY_SETTLE_MS + 200);
    expect(x.r.get(A)?.follows).toEqual([]);
    expect(x.applied).toContainEqual({ type: "reconcile", node: A });
    expect(x.r.badInput().byReason["spoofed-origin"]).toBe(1);
  });
});

describe("whether the wait's marker is back (what a test on real sockets waits on)", () => {
  it("is false from the last SUBACK until the marker is back, and again at the next", async () => {
    const x = pausedReplay("run-2");
    await x.run(1_000);
    expect(x.end.markerBack).toBe(false);
    x.marker(10);
    await x.run(20);
    expect(x.end.markerBack).toBe(true);
    x.end.begin();
    expect(x.end.markerBack).toBe(false);
  });
});
