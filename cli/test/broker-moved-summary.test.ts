/**
 * The summary's lines for the report's `brokerMoved` (fleet/broker-address.ts): the nodes' broker
 * name named other addresses mid-run, and the nodes, as boards given the address, did not follow.
 * Before, the summary said only that the nodes never recovered from the outage.
 */
import { expect, it } from "vitest";
import { movedLines } from "../moved-lines.js";

it("says where the name moved, when, and that the nodes stayed; nothing when it did not move", () => {
  expect(movedLines({})).toBe("");
  const text = movedLines({
    brokerMoved: {
      host: "broker.lan",
      nodesAt: ["127.0.0.2:1883"],
      moves: [
        { atMs: 15_000, names: ["127.0.0.3:1883"] },
        { atMs: 42_500, names: ["127.0.0.2:1883"] },
      ],
    },
  });
  expect(text.split("\n").slice(1)).toEqual([
    "       broker moved   broker.lan named 127.0.0.3:1883 at 15.0 s; the nodes connect to 127.0.0.2:1883 (what it named at the start), as boards given the address: they did not follow",
    "       broker moved   broker.lan named 127.0.0.2:1883 again at 42.5 s, where the nodes connect",
  ]);
});
