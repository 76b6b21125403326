/**
 * The list's `pairing waits` of a twins service that has not reached its broker yet (a `twins --data`
 * started while its broker is down): what each node follows is not known then, so only a pairing this
 * view stored is marked, not every stored one (view/node-list.ts, waitsOf).
 */
import { expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { TwinsSource } from "../twins-source.js";
import { a, b, FakeTwins, twin } from "./fake-twins.js";

it("marks no pairing as waiting while the broker was never reached: what the node follows is not known yet", () => {
  // A `twins --data` started while its broker is down: its store's pairings, pending, nothing heard.
  const t = Object.assign(new FakeTwins(), {
    waiting: { broker: "mqtt://x", since: 0 } as { broker: string; since: number } | undefined,
  });
  const s = new TwinsSource(t, "mqtt://x");
  const stored = twin(b, {
    presence: "offline",
    desired: { sources: [a], configVersion: 1 },
    pairing: "pending",
  });
  t.twins.set(b, stored);
  t.emit("twin-updated", stored, "desired");
  // It read `pairing waits` on every node, the confirmed ones included.
  expect(s.node(b)?.waits).toBeUndefined();
  // Reached: the broker's copy of its config says what it follows; one that differs waits.
  t.waiting = undefined;
  t.emit("broker", true);
  const same = { ...stored, follows: [a] };
  t.twins.set(b, same);
  t.emit("twin-updated", same, "config");
  expect(s.node(b)?.waits).toBeUndefined();
  const other = { ...stored, follows: [NodeId("c")] };
  t.twins.set(b, other);
  t.emit("twin-updated", other, "config");
  expect(s.node(b)?.waits).toBe("pairing");
});
