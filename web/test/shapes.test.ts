/**
 * A node's summary JSON is the summary serialised, kept per snapshot object: a changed node (a new
 * object from the view) gets new text, an unchanged one its kept text. A node's detail carries what
 * the view gives of its last message.
 */
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import type { ConsoleNode } from "../../view/source.js";
import { detailOf, summaryJson, summaryOf } from "../shapes.js";

describe("summary JSON", () => {
  it("is the summary serialised, and follows a node's new snapshot", () => {
    const a: ConsoleNode = {
      id: NodeId("n-1"),
      kind: "sim",
      on: false,
      online: true,
      sync: "in-sync",
      version: 3,
    };
    expect(JSON.parse(summaryJson(a))).toEqual(summaryOf(a));
    expect(summaryJson(a)).toBe(JSON.stringify(summaryOf(a)));
    const b: ConsoleNode = { ...a, on: true, version: 4, changedAt: 1_700_000_000_123 };
    expect(JSON.parse(summaryJson(b))).toEqual({
      ...summaryOf(a),
      on: true,
      version: 4,
      changedAt: 1_700_000_000_123,
    });
    expect(JSON.parse(summaryJson(a)).on).toBe(false);
  });
});

describe("a node's detail", () => {
  it("carries the age of its last message beside its time and date", () => {
    const node: ConsoleNode = {
      id: NodeId("n-1"),
      kind: "sim",
      on: false,
      online: false,
      sync: "unknown",
      version: 2,
    };
    const d = detailOf({
      node,
      follows: [],
      followers: [],
      lastSeen: -30_000,
      lastSeenAt: "2026-12-05T11:59:30.000Z",
      lastSeenAge: 130_000,
    });
    expect(d).toMatchObject({
      lastSeen: -30_000,
      lastSeenAt: "2026-12-05T11:59:30.000Z",
      lastSeenAge: 130_000,
    });
  });
});
