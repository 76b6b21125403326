/** The twin registry's last-seen date (twins/registry.ts): only the node itself, online, is the node heard. */
import { describe, expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

const A = NodeId("A");

/** A service's start: the broker replays A's config, the reports and A's `T1 1`; A registers. */
function fresh(): TwinRegistry {
  const r = new TwinRegistry(Prefix("tf"));
  r.receive("tf/config/A", "C1 1 B", 0, 0, true);
  r.receive("tf/report/B", "R1 1 5 B", 0, 0, true);
  r.receive("tf/report/A", "R1 1 5 B", 0, 0, true);
  r.receive("tf/status/A", "T1 1", 0, 0, true);
  r.receive("tf/register/A", "G1 sim uno-w5100 1.0.0", 0, 0);
  return r;
}

describe("TwinRegistry: when a node was last heard", () => {
  it("takes no report on the topic of a node away for the node heard: a tool's, or the service's own put-back", () => {
    const r = fresh();
    r.receive("tf/report/A", "R1 1 6 A", 0, 100);
    r.receive("tf/status/A", "T1 0", 0, 200);
    // Another client writes an older report on its topic: the twin's is put back (it comes back live).
    expect(r.receive("tf/report/A", "R1 0 2 A", 0, 90_000)).toContainEqual({ type: "put-back", node: A });
    r.receive("tf/report/A", "R1 1 6 A", 0, 90_010);
    // A newer one written for it while it is away (shown: it is what the broker holds now).
    r.receive("tf/report/A", "R1 0 7 A", 0, 95_000);
    expect(r.get(A)).toMatchObject({ presence: "offline", lastSeen: 100, reported: { on: false } });
    r.receive("tf/status/A", "T1 1", 0, 120_000);
    r.receive("tf/report/A", "R1 1 8 A", 0, 121_000);
    expect(r.get(A)?.lastSeen).toBe(121_000);
  });

  it("keeps a node the broker's restart left unheard unheard through a report a tool writes on its topic", () => {
    const r = fresh();
    r.receive("tf/report/A", "R1 1 6 A", 0, 100);
    expect(r.brokerRestarted(1_000)).toEqual([{ type: "unheard", node: A }]);
    r.receive("tf/report/A", "R1 0 7 A", 0, 2_000); // a put-back, a set's echo: any client's
    r.receive("tf/status/A", "T1 1", 0, 3_000, true); // the restarted broker's copy, replayed again
    expect(r.get(A)).toMatchObject({ presence: "unheard", lastSeen: 100 });
  });
});
