// Why a node never registered: a broker's refusal (bad credentials, a client id or rules refused)
// stays its cause through the failures that follow from it. Its retries get its address banned, and
// a banned address is closed without a CONNACK: told as "no CONNACK … a broker at its connection
// limit", the run's summary sent an operator with wrong node passwords after the broker's limits.
import { expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { Collector } from "../collector.js";

const [A, B] = [NodeId("A"), NodeId("B")];

it("keeps a refusal as the node's cause through the failures after it", () => {
  const c = new Collector(new Map());
  c.push([
    { type: "connect-failed", node: A, at: 100, reason: "refused" },
    { type: "connect-failed", node: A, at: 5100, reason: "connack-timeout" },
    { type: "connect-failed", node: B, at: 100, reason: "handshake" },
    { type: "connect-failed", node: B, at: 5100, reason: "connack-timeout" },
  ]);
  c.drain(10_000);
  expect(c.lastConnectFailure.get(A)).toBe("refused");
  expect(c.lastConnectFailure.get(B)).toBe("connack-timeout");
});
