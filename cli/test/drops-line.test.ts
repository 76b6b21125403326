// The summary (`sim`'s, and `report show`'s) names what the nodes dropped of what the broker sent them.
import { describe, expect, it } from "vitest";
import { mergeShards } from "../../fleet/shard-merge.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { summary } from "../sim-summary.js";

describe("the summary's drops", () => {
  const r = mergeShards(["a", "b"], fleetOfTwo());

  it("names the messages the nodes dropped, by reason, and the packets over their buffer", () => {
    const s = summary({
      ...r,
      link: { ...r.link, drops: { "bad-topic": 3, "too-long": 1 }, oversizedDropped: 2 },
    });
    expect(s).toContain(
      "\n       dropped        by the nodes: 4 messages (3 bad-topic, 1 too-long), 2 packets over PubSubClient's buffer\n",
    );
    const one = summary({
      ...r,
      link: { ...r.link, drops: { "bad-payload": 1, stale: 4 }, oversizedDropped: 0 },
    });
    expect(one).toContain("dropped        by the nodes: 1 message (1 bad-payload)\n");
  });

  it("leaves out the stale copies a pairing cycle's echo ends with, which every run has", () => {
    const s = summary({ ...r, link: { ...r.link, drops: { stale: 4 }, oversizedDropped: 0 } });
    expect(s).not.toContain("dropped ");
  });

  it("says nothing of them where nothing was dropped, or the report predates the count", () => {
    for (const drops of [{}, undefined]) {
      const s = summary({ ...r, link: { ...r.link, drops, oversizedDropped: 0 } });
      expect(s).not.toContain("dropped ");
    }
  });
});
