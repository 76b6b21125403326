// The forget request: `D1` on `<p>/forget/<id>`, read from a topic and payload, everything else told.
import { expect, it } from "vitest";
import { forgetSubscription, forgetTopic, readForget } from "../forget.js";
import { NodeId, Prefix } from "../ids.js";

const p = Prefix("tf");
const d1 = Buffer.from("D1");

it("builds the request's topic and the subscription to every node's", () => {
  expect(forgetTopic(p, NodeId("n-0003"))).toBe("tf/forget/n-0003");
  expect(forgetSubscription(p)).toBe("tf/forget/+");
});

it("reads the node of a well-formed request", () => {
  expect(readForget(p, "tf/forget/n-0003", d1)).toEqual({ node: "n-0003" });
});

it("tells a malformed id and a payload that is not D1", () => {
  expect(readForget(p, "tf/forget/bad id!", d1)).toEqual({ bad: { reason: "bad-id" } });
  expect(readForget(p, "tf/forget/n-0003", Buffer.from("D2"))).toEqual({
    bad: { reason: "bad-payload", node: "n-0003" },
  });
  expect(readForget(p, "tf/forget/n-0003", Buffer.alloc(0))).toEqual({
    bad: { reason: "bad-payload", node: "n-0003" },
  });
});

it("leaves other topics and other prefixes alone", () => {
  expect(readForget(p, "tf/report/n-0003", d1)).toBeUndefined();
  expect(readForget(p, "lab/forget/n-0003", d1)).toBeUndefined();
});
