// The sums every fleet report shares: registration times and link counters.
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { linkTotals, notRegistered, registrationTimes } from "../tally.js";

const [A, B, C, D] = ["A", "B", "C", "D"].map((x) => NodeId(x)) as [NodeId, NodeId, NodeId, NodeId];

describe("registrationTimes", () => {
  it("times each node that booted and registered, in the order of the ids, never below 0", () => {
    const registered = new Map([
      [A, 1500.04],
      [B, 900],
      [C, 700],
    ]);
    const boot = new Map([
      [A, 200],
      [B, 1000],
      [D, 0],
    ]);
    const t = registrationTimes([D, C, B, A], registered, boot);
    // D never registered, C never booted; B's registration came in before its boot's event.
    expect([...t.ms]).toEqual([
      [B, 0],
      [A, 1300],
    ]);
    expect(t.histogram.summary().count).toBe(2);
    expect(t.histogram.summary().max).toBeCloseTo(1300, 0);
  });
});

describe("linkTotals", () => {
  it("adds every counter, a missing one as 0", () => {
    const full = {
      segments: 10,
      retransmissions: 2,
      timeouts: 1,
      disconnects: 9,
      keepaliveTimeouts: 2,
      closedByBroker: 3,
      closedByNode: 2,
      tcpTimeouts: 1,
      powerCuts: 1,
      reconnects: 3,
      oversizedDropped: 4,
    };
    const old = { segments: 5, retransmissions: 1, timeouts: 0, reconnects: 1 };
    expect(linkTotals([{ link: full }, { link: old }])).toEqual({
      segments: 15,
      retransmissions: 3,
      timeouts: 1,
      disconnects: 9,
      keepaliveTimeouts: 2,
      closedByBroker: 3,
      closedByNode: 2,
      tcpTimeouts: 1,
      powerCuts: 1,
      reconnects: 4,
      oversizedDropped: 4,
      drops: {},
    });
    expect(linkTotals([])).toEqual({
      segments: 0,
      retransmissions: 0,
      timeouts: 0,
      disconnects: 0,
      keepaliveTimeouts: 0,
      closedByBroker: 0,
      closedByNode: 0,
      tcpTimeouts: 0,
      powerCuts: 0,
      reconnects: 0,
      oversizedDropped: 0,
      drops: {},
    });
  });

  it("adds the drops by reason; a part without them (a shard report from before) adds none", () => {
    const a = { drops: { "bad-topic": 2, "too-long": 1 } };
    const b = { drops: { "bad-topic": 1, stale: 5 } };
    // Written by something else: a reason this build does not know, a count that is no number.
    const odd = { drops: { "no-such-reason": 7, stale: "3" } } as unknown as typeof a;
    expect(linkTotals([{ link: a }, { link: {} }, { link: b }, { link: odd }]).drops).toEqual({
      "bad-topic": 3,
      "too-long": 1,
      stale: 5,
    });
  });
});

describe("notRegistered", () => {
  it("is nothing when every node registered", () => {
    expect(
      notRegistered(
        [A, B],
        new Map([
          [A, 1],
          [B, 2],
        ]),
        new Map(),
      ),
    ).toBeUndefined();
  });

  it("counts the rest by their last failed connection, in fleet order", () => {
    const failed = new Map([
      [B, "connack-timeout" as const],
      [C, "handshake" as const],
      [D, "connack-timeout" as const],
    ]);
    expect(notRegistered([D, C, B, A], new Map([[C, 5]]), failed)).toEqual({
      nodes: 3,
      first: [D, B, A],
      lastConnectFailure: { "connack-timeout": 2, none: 1 },
    });
  });

  it("counts a node heard registering with no report apart, whatever its connection did before", () => {
    const failed = new Map([[B, "connack-timeout" as const]]);
    expect(notRegistered([A, B, C], new Map(), failed, new Set([A, B]))).toEqual({
      nodes: 3,
      first: [A, B, C],
      lastConnectFailure: { "no-report": 2, none: 1 },
    });
  });
});
