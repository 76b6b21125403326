/**
 * The QoS a node subscribes to its own topics at is the one the twins service judges their size at
 * (NODE_READS_AT_QOS1, protocol/codec.ts decodeAsNodeReads): the two must not drift apart.
 */
import { expect, it } from "vitest";
import { type MessageKind, NODE_READS_AT_QOS1, NodeId, Prefix } from "../../protocol/index.js";
import { NodeCore } from "../core.js";

it("a node reads at QoS 1 exactly the kinds NODE_READS_AT_QOS1 lists, on its own topics", () => {
  const core = new NodeCore({
    id: NodeId("A"),
    prefix: Prefix("tf"),
    kind: "sim",
    profile: "uno-w5100",
    firmware: "1.0.0",
    syncGraceMs: 1500,
  });
  const outs = [
    ...core.handle({ type: "boot" }, 0),
    ...core.handle({ type: "connected" }, 0),
    ...core.handle({ type: "tick" }, 1500),
  ];
  const own = new Map<string, 0 | 1>();
  for (const o of outs) {
    const m = o.type === "subscribe" ? /^tf\/([a-z]+)\/A$/.exec(o.topic) : null;
    if (o.type === "subscribe" && m) own.set(m[1] as MessageKind, o.qos);
  }
  expect(
    [...own]
      .filter(([, qos]) => qos === 1)
      .map(([kind]) => kind)
      .sort(),
  ).toEqual([...NODE_READS_AT_QOS1].sort());
});
