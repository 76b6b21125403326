/**
 * A mixed fleet: boards or host stand-ins on the run's broker, paired with its simulated nodes. The
 * run hears them through its twins service, and judges their presses and their deliveries of the
 * fleet's presses as it judges the fleet's own. Before, it heard only its own nodes: a stand-in hung
 * for 25 s while its source pressed away left the report at `presses 1, lost 0`, and a stand-in's
 * press its simulated followers carried was not counted at all.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { NodeId, type Stamp } from "../../protocol/index.js";
import type { Twin, TwinsEvents } from "../../twins/index.js";
import { Collector } from "../collector.js";
import { divergedNodes } from "../divergence.js";
import { applied, press } from "./node-events.js";

const id = (s: string) => NodeId(s);
const [N0, N10, N11] = [id("n-0000"), id("n-0010"), id("n-0011")] as [NodeId, NodeId, NodeId];
const [H1, H3] = [id("h-1"), id("h-3")] as [NodeId, NodeId];
const stamp = (counter: number, origin: NodeId): Stamp => ({ counter, origin });

function twin(node: NodeId, kind: Twin["kind"], s: Stamp | undefined, follows: NodeId[] = []): Twin {
  return {
    id: node,
    ...(kind === undefined ? {} : { kind }),
    presence: "online",
    ...(s === undefined ? {} : { reported: { on: s.counter % 2 === 1, stamp: s } }),
    desired: { sources: follows, configVersion: follows.length },
    pairing: "confirmed",
    follows,
    followers: [],
    pairingInSync: true,
    version: 0,
  };
}

/** The run's twins service as the outside nodes read it: its twins now, and its events. */
class FakeTwins extends EventEmitter<TwinsEvents> {
  readonly twins: Twin[] = [];
  list(): readonly Twin[] {
    return this.twins;
  }
}

/** A fleet of n-0000 (following n-0010), n-0010 and n-0011; h-1 and h-3 outside it, h-3 following n-0011. */
function mixed() {
  let now = 0;
  const feed = new FakeTwins();
  feed.twins.push(twin(H1, "host", stamp(0, H1)), twin(H3, "host", stamp(2, N11), [N11]));
  const c = Collector.following(new Map([[N0, [N10]]]));
  c.judgeOutside(feed, [N0, N10, N11], () => now);
  const at = (ms: number) => {
    now = ms;
  };
  return { c, feed, at };
}

describe("nodes outside the fleet, judged with it", () => {
  it("a stand-in's press carried by a simulated follower is a press and a delivery", () => {
    const { c, feed, at } = mixed();
    // n-0000 is paired onto h-1 mid-run (twinfleet pair), then h-1 is pressed.
    c.push([{ type: "sources", node: N0, at: 900, sources: [N10, H1] }]);
    at(1000);
    feed.emit("twin-updated", twin(H1, "host", stamp(1, H1)), "report");
    c.push([applied(N0, 1030, stamp(1, H1))]);
    c.finish();
    expect(c.checker.counts()).toMatchObject({ presses: 1, deliveries: 1, within1s: 1, lost: 0 });
    expect(c.outside?.report()).toEqual({ nodes: 2, ids: ["h-1", "h-3"], presses: 1, followers: 1 });
  });

  it("a stand-in hung for 25 s is owed its source's presses, and they count late", () => {
    const { c, feed, at } = mixed();
    c.push([press(N11, 1000, stamp(3, N11)), press(N11, 9000, stamp(4, N11))]);
    // SIGCONT at 26 s: it reconnects, syncs and re-publishes its source's newest report.
    at(26_100);
    feed.emit("twin-updated", twin(H3, "host", stamp(4, N11), [N11]), "report");
    c.finish();
    expect(c.checker.counts()).toMatchObject({ presses: 2, deliveries: 0, lost: 2, late: 2, lostForGood: 0 });
  });

  it("a stand-in that never comes back has lost its source's presses for good", () => {
    const { c } = mixed();
    c.push([press(N11, 1000, stamp(3, N11))]);
    c.finish();
    expect(c.checker.counts()).toMatchObject({ presses: 1, lost: 1, lostForGood: 1 });
    // Shown online at the end, it is no board switched off: nothing counted apart.
    expect(c.checker.lostAtAway().size).toBe(0);
  });

  it("the pairs owed to a stand-in switched off mid-run are counted apart, with its id", () => {
    // A lab's power cut with no power back: h-3 killed -9 at 14 s, its will published at once. The
    // run said `26 lost for good` and no word of h-3, offline since, as if the fleet had lost them.
    const { c, feed } = mixed();
    c.push([press(N11, 1000, stamp(3, N11)), press(N11, 20_000, stamp(4, N11))]);
    feed.twins[1] = { ...twin(H3, "host", stamp(2, N11), [N11]), presence: "offline" };
    c.finish();
    expect(c.checker.counts()).toMatchObject({ presses: 2, lost: 2, lostForGood: 2 });
    expect([...c.checker.lostAtAway()]).toEqual([[H3, 2]]);
  });

  it("its pairing as first seen is no change; a pairing changed later is", () => {
    const { c, feed, at } = mixed();
    const lines: string[] = [];
    c.onPairingLine = (l) => lines.push(l);
    at(5000);
    feed.emit("twin-updated", twin(H3, "host", stamp(2, N11), [N11, N10]), "config");
    c.push([press(N10, 6000, stamp(3, N10))]);
    at(6040);
    feed.emit("twin-updated", twin(H3, "host", stamp(3, N10), [N11, N10]), "report");
    c.finish();
    expect(lines).toEqual([
      "pairing changed at the nodes: h-3 now follows n-0011, n-0010 (it followed n-0011); presses from then on are judged against the new pairing",
    ]);
    expect(c.live?.report(0)).toMatchObject({ changes: 1, nodes: 1, differAtEnd: 1 });
    // n-0010's press reached its fleet follower never, and h-3 in 40 ms.
    expect(c.checker.counts()).toMatchObject({ presses: 1, deliveries: 1, lostForGood: 1 });
  });

  it("another fleet's simulated nodes and the fleet's own are not outside nodes", () => {
    const { c, feed, at } = mixed();
    at(1000);
    feed.emit("twin-registered", twin(id("n-0200"), "sim", stamp(1, id("n-0200"))), true, false);
    feed.emit("twin-updated", twin(N10, "sim", stamp(1, N10)), "report");
    c.finish();
    expect(c.checker.counts().presses).toBe(0);
    expect(c.outside?.report()?.ids).toEqual(["h-1", "h-3"]);
  });
});

describe("nodes gone from the broker's view", () => {
  it("an earlier run's retained nodes, offline all along, are not outside nodes, nor their old stamps presses", () => {
    let now = 0;
    const feed = new FakeTwins();
    const gone = (n: string, s: Stamp) => ({ ...twin(id(n), undefined, s), presence: "offline" as const });
    // n-0025 and n-0030, left by a 100-node run on the same broker: retained reports, no one online.
    feed.twins.push(gone("n-0025", stamp(9, id("n-0025"))), gone("n-0030", stamp(3, id("n-0030"))));
    const c = Collector.following(new Map([[N0, [N10]]]));
    c.judgeOutside(feed, [N0, N10], () => now);
    now = 1000;
    feed.emit("twin-updated", gone("n-0025", stamp(9, id("n-0025"))), "report");
    // n-0010 boots holding a stamp of n-0025's from the earlier run; n-0000 takes it from n-0010.
    c.push([applied(N10, 1000, stamp(9, id("n-0025"))), applied(N0, 1010, stamp(9, id("n-0025")))]);
    c.finish();
    expect(c.checker.counts().presses).toBe(0);
    expect(c.outside?.report()).toBeUndefined();
    // Back on line later: from then on it is one.
    feed.emit("twin-online", twin(id("n-0030"), "real", stamp(3, id("n-0030"))));
    expect(c.outside?.report()?.ids).toEqual(["n-0030"]);
  });
});

describe("the first report of an outside node", () => {
  it("is what it holds, not a press: a board's first sync publishes its report", () => {
    const { c, feed, at } = mixed();
    const h5 = id("h-5");
    at(1000);
    feed.emit("twin-online", twin(h5, undefined, undefined));
    feed.emit("twin-updated", twin(h5, "real", stamp(7, h5)), "report");
    at(2000);
    feed.emit("twin-updated", twin(h5, "real", stamp(8, h5)), "report");
    c.finish();
    expect(c.outside?.report()).toMatchObject({ nodes: 3, presses: 1 });
    expect(c.checker.counts().presses).toBe(1);
  });
});

describe("a board's press a simulated follower applies before the run hears it", () => {
  it("is timed from that first sight, not counted superseded at the follower", () => {
    const { c, feed, at } = mixed();
    c.push([{ type: "sources", node: N0, at: 900, sources: [N10, H1] }]);
    // n-0000 applies h-1's press at 1.010 s; the run's twins service hears h-1's report at 1.030 s.
    c.push([applied(N0, 1010, stamp(1, H1))]);
    at(1030);
    feed.emit("twin-updated", twin(H1, "host", stamp(1, H1)), "report");
    c.finish();
    expect(c.checker.counts()).toMatchObject({ presses: 1, deliveries: 1, superseded: 0, lost: 0 });
    expect(c.outside?.report()?.presses).toBe(1);
  });

  it("is not a new press when a follower re-applies an older stamp of the board", () => {
    const { c, feed, at } = mixed();
    at(1000);
    feed.emit("twin-updated", twin(H1, "host", stamp(5, H1)), "report");
    c.push([{ type: "sources", node: N0, at: 1100, sources: [N10, H1] }, applied(N0, 2000, stamp(4, H1))]);
    c.finish();
    expect(c.checker.counts().presses).toBe(1);
  });
});

describe("divergence at the end, with a board among the sources", () => {
  it("a simulated node holding its board source's newest press is not diverged; one behind it is", () => {
    const { c, feed, at } = mixed();
    c.push([{ type: "sources", node: N0, at: 900, sources: [N10, H1] }, applied(N0, 1010, stamp(7, H1))]);
    at(1030);
    feed.emit("twin-updated", twin(H1, "host", stamp(7, H1)), "report");
    c.finish();
    const pairing = c.pairing ?? new Map();
    const holding = (s: Stamp) => new Map([[N0, { on: true, stamp: s }]]);
    expect(divergedNodes(holding(stamp(7, H1)), pairing, c.originated, c.outsideHolding)).toEqual([]);
    expect(divergedNodes(holding(stamp(6, H1)), pairing, c.originated, c.outsideHolding)).toEqual(["n-0000"]);
  });
});
