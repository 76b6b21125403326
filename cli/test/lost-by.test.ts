// The summary's `link` line names how the sessions lost ended, the node's own closes among them.
import { describe, expect, it } from "vitest";
import { mergeShards } from "../../fleet/shard-merge.js";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { summary } from "../sim-summary.js";

describe("the summary's sessions lost", () => {
  const r = mergeShards(["a", "b"], fleetOfTwo());
  const lost = { disconnects: 4, keepaliveTimeouts: 1, closedByBroker: 1, tcpTimeouts: 0, powerCuts: 0 };

  it("names the sessions the node closed itself on a packet it could not read", () => {
    const s = summary({ ...r, link: { ...r.link, ...lost, closedByNode: 2 } });
    expect(s).toContain("4 sessions lost (1 by keepalive, 1 closed by the broker, 2 closed by the node)");
  });

  it("reads as before where the node closed none (or the report predates the count)", () => {
    const s = summary({ ...r, link: { ...r.link, ...lost, disconnects: 2, closedByNode: undefined } });
    expect(s).toContain("2 sessions lost (1 by keepalive, 1 closed by the broker), ");
  });
});
