/**
 * Session clashes (fleet/session-clashes.ts): a node the broker closed again and again within the
 * window found once, closes a fault or outage explains left out.
 */
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { CLASH_CLOSES, CLASH_WINDOW_MS, CUT_CLOSES, SessionClashes } from "../session-clashes.js";

const A = NodeId("n-0000");
const B = NodeId("n-0001");

describe("SessionClashes", () => {
  it("finds a node the broker closed three times within the window, once, and reports it", () => {
    const found: [string, number, number][] = [];
    const c = new SessionClashes(
      () => false,
      (n, at, w) => found.push([n, at, w]),
    );
    c.closed(A, 1000);
    c.closed(A, 1400);
    expect(c.count).toBe(0);
    c.closed(A, 1800);
    c.closed(A, 2200);
    expect(found).toEqual([[A, 1800, 800]]);
    expect(c.report(500)).toEqual({ nodes: 1, closes: 4, ids: [A], firstAtMs: 1300 });
  });

  it("does not count closes spread wider than the window (a board that reboots now and then)", () => {
    const c = new SessionClashes(
      () => false,
      () => {},
    );
    const step = CLASH_WINDOW_MS / (CLASH_CLOSES - 1) + 1;
    for (let i = 0; i < 6; i++) c.closed(B, i * step);
    expect(c.count).toBe(0);
    expect(c.report(0)).toBeUndefined();
  });

  it("leaves out closes a fault or an outage explains", () => {
    const c = new SessionClashes(
      (at) => at < 5000,
      () => {},
    );
    for (const at of [1000, 2000, 3000, 4000, 6000, 7000]) c.closed(A, at);
    expect(c.count).toBe(0);
    c.closed(A, 8000);
    expect(c.report(0)).toMatchObject({ nodes: 1, closes: 3 });
  });

  it("names at most ten ids, in the order found, and counts every clashing node", () => {
    const c = new SessionClashes(
      () => false,
      () => {},
    );
    const ids = Array.from({ length: 12 }, (_, i) => NodeId(`n-${String(11 - i).padStart(4, "0")}`));
    for (let k = 0; k < CLASH_CLOSES; k++) for (const id of ids) c.closed(id, k * 100);
    const r = c.report(0);
    expect(r?.nodes).toBe(12);
    expect(r?.ids).toEqual(ids.slice(0, 10));
  });

  it("tells a node whose first CUT_CLOSES closes all came right after its CONNACK apart from a clash", () => {
    const clashes: string[] = [];
    const cuts: [string, number, number][] = [];
    const c = new SessionClashes(
      () => false,
      (n) => clashes.push(n),
      (n, at, span) => cuts.push([n, at, span]),
    );
    for (let k = 0; k < CUT_CLOSES - 1; k++) c.closed(A, 1000 + k * 10, true);
    // A burst long since, but a takeover too can come before the broker answered (10 in a row seen).
    expect(c.cutCount + c.count).toBe(0);
    c.closed(A, 1000 + (CUT_CLOSES - 1) * 10, true);
    c.closed(A, 5000, true);
    expect(cuts).toEqual([[A, 1000 + (CUT_CLOSES - 1) * 10, (CUT_CLOSES - 1) * 10]]);
    expect(clashes).toEqual([]);
    expect(c.count).toBe(0);
    expect(c.report(0)).toBeUndefined();
    expect(c.cutReport(500)).toEqual({
      nodes: 1,
      closes: CUT_CLOSES + 1,
      ids: [A],
      firstAtMs: 500 + (CUT_CLOSES - 1) * 10,
    });
    expect(c.reports(500)).toEqual({ cutAtConnack: c.cutReport(500) });
    expect(c.progress()).toEqual({ cutAtConnack: 1 });
  });

  it("tells a burst as a clash once a served session of the node was closed, however many came at the CONNACK", () => {
    // A takeover now and then comes before the broker answered the node's subscribe: 10 in a row
    // for a node of a second fleet started beside a first on Mosquitto, then served ones.
    const clashes: [string, number, number][] = [];
    const c = new SessionClashes(
      () => false,
      (n, at, w) => clashes.push([n, at, w]),
    );
    for (let k = 0; k < 10; k++) c.closed(B, 1000 + k * 10, true);
    expect(clashes).toEqual([]);
    c.closed(B, 1200, false);
    expect(clashes).toEqual([[B, 1200, 20]]);
    expect(c.cutCount).toBe(0);
    expect(c.progress()).toEqual({ clashes: 1 });
    expect(c.report(0)).toMatchObject({ nodes: 1, closes: 11 });
  });

  it("moves a node taken for the broker's own closes to the clashes once a served session of its is closed", () => {
    const clashes: [string, number, number][] = [];
    const c = new SessionClashes(
      () => false,
      (n, at, w) => clashes.push([n, at, w]),
    );
    for (let k = 0; k < CUT_CLOSES; k++) c.closed(A, 1000 + k, true);
    expect(c.cutCount).toBe(1);
    c.closed(A, 2000, false);
    expect(clashes).toEqual([[A, 2000, 2]]);
    expect(c.cutCount).toBe(0);
    expect(c.report(0)).toEqual({ nodes: 1, closes: CUT_CLOSES + 1, ids: [A], firstAtMs: 2000 });
    expect(c.cutReport(0)).toBeUndefined();
  });
});
