/**
 * The look for reports the broker did not replay (twins/put-back.ts) ends at the replay's end as the
 * marker shows it, not at the first quiet: a broker restarted on its store (or one that says nothing
 * of its starts) whose replay paused past the quiet time on a loaded host had the twins not replayed
 * yet put back over the nodes' newer reports it still held. And, the end so marked, a report a broker
 * that ran on did not replay was cleared while the service was away: the twin forgets it, as it
 * forgets a clear it sees, where it kept showing it until the node reported again.
 */
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { afterOwnPause } from "./put-back-rig.js";

const A = NodeId("A");
const B = NodeId("B");

describe.each([
  ["restarted on its store", "run-2"],
  ["saying nothing of its starts", undefined],
] as const)("a broker %s, its replay pausing past the quiet time", (_, startId) => {
  it("has nothing put back over the reports it replays after the pause, and the lost ones once the marker is back", async () => {
    const x = afterOwnPause(startId, { marker: true });
    expect(x.restart.ranOn()).not.toBe(true);
    x.held.delete("tf/report/B"); // it died before storing B's report
    // A's copy, read from its store, comes 2 s into the replay; the marker after it.
    x.replay(2_000, "tf/report/A");
    x.marker(2_050);
    await x.run(2_000);
    // Before: at the first quiet, A's 5@A went back over the broker's 40@A (and B's 6@B).
    expect(x.sent).toEqual([]);
    await x.run(REPLAY_SETTLE_MS + 100);
    expect(x.sent).toEqual(["B 6@B"]);
    expect([x.stampOf("tf/report/A"), x.stampOf("tf/report/B")]).toEqual(["40@A", "6@B"]);
    expect(x.r.get(A)?.reported?.stamp).toEqual({ counter: 40, origin: A });
  });

  it("still ends on quiet alone when the marker does not come back", async () => {
    const x = afterOwnPause(startId, { marker: true });
    x.held.clear(); // restarted empty, or it dropped the marker
    await x.run(10_000 + REPLAY_SETTLE_MS + 100);
    expect(x.sent).toEqual(["A 5@A", "B 6@B"]);
  });

  it("with the marker not back in 10 s, waits for the quiet time from there rather than ending whatever still comes", async () => {
    const x = afterOwnPause(startId, { marker: true });
    x.held.delete("tf/report/B");
    x.held.set("tf/status/B", "T1 0");
    // Still replaying as the 10 s pass, the marker far behind.
    x.replay(9_900, "tf/status/B");
    x.replay(10_300, "tf/status/B");
    x.replay(10_700, "tf/report/A");
    await x.run(10_700 + REPLAY_SETTLE_MS + 100);
    // Before: the look ended 10.5 s in, whatever still came: A's 5@A went back over 40@A.
    expect(x.sent).toEqual(["B 6@B"]);
    expect(x.stampOf("tf/report/A")).toBe("40@A");
  });
});

describe("a report a broker that ran on no longer holds, its replay over by the marker", () => {
  it("is forgotten by its twin, as a clear seen, and not put back", async () => {
    const x = afterOwnPause("run-1", { marker: true });
    x.held.delete("tf/report/B"); // cleared while the service was stopped (`sim --fresh`, another tool)
    x.replay(100, "tf/report/A");
    x.marker(150);
    await x.run(1_000);
    expect(x.sent).toEqual([]);
    // Before: B's twin kept showing 6@B, which neither the broker nor, for all it knows, the node holds.
    expect(x.r.get(B)?.reported).toBeUndefined();
    expect(x.applied).toContainEqual({ type: "updated", node: B, change: "report" });
    expect(x.r.get(A)?.reported?.stamp).toEqual({ counter: 40, origin: A });
    // The node reporting again is taken as new.
    x.publish("tf/report/B", "R1 1 50 B");
    expect(x.r.get(B)?.reported?.stamp).toEqual({ counter: 50, origin: B });
  });

  it("is left shown when only quiet ended the look (it may be late)", async () => {
    const x = afterOwnPause("run-1");
    x.held.delete("tf/report/B");
    await x.run(1_000);
    expect(x.sent).toEqual([]);
    expect(x.r.get(B)?.reported?.stamp).toEqual({ counter: 6, origin: B });
  });
});
