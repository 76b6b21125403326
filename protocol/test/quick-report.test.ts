// The quick reading of a report: every report the codec writes is taken, giving the message the
// general reading gives; anything the general reading rejects (or any other payload) is left to it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, encode, MAX_COUNTER, NodeId, Prefix } from "../index.js";
import { quickReport } from "../quick-report.js";

const p = Prefix("tf");
const A = NodeId("A");
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/).map((s) => NodeId(s));

describe("quickReport", () => {
  it("takes every report the codec writes, as the message it encodes", () => {
    fc.assert(
      fc.property(
        id,
        fc.boolean(),
        fc.integer({ min: 0, max: MAX_COUNTER }),
        id,
        (node, on, counter, origin) => {
          const msg = { kind: "report" as const, node, on, stamp: { counter, origin } };
          const e = encode(p, msg);
          expect(quickReport(node, e.payload)).toEqual(msg);
          expect(decode(p, e.topic, e.payload)).toEqual(msg);
        },
      ),
    );
  });

  it("leaves what the general reading rejects to it, and gives what it accepts", () => {
    const texts = [
      "R1 1 42 B",
      "R1 0 0 A",
      `R1 1 ${MAX_COUNTER} B`,
      `R1 1 ${MAX_COUNTER + 1} B`,
      "R1 1 99999999999 B",
      "R1 1 042 B",
      "R1 1 00 B",
      "R1 2 4 B",
      "R1 1  4 B",
      "R1 1 4  B",
      "R1 1 4 B ",
      "R1 1 4 B C",
      "R1 1 4",
      "R1 1 4 ",
      "R1 1 B",
      "R1 1",
      "R1",
      "R2 1 4 B",
      "R12 1 4 B",
      "S1 1 4 B",
      "R1 1 4 b.c",
      "R1 1 4 é",
      "R1 1 +4 B",
      "R1 1 4e2 B",
      "",
    ];
    for (const text of texts) {
      let general: unknown;
      try {
        general = decode(p, "tf/report/A", text);
      } catch (e) {
        general = e;
      }
      const quick = quickReport(A, text);
      if (general instanceof Error) expect(quick, text).toBeUndefined();
      else expect(quick, text).toEqual(general);
    }
    expect(quickReport(A, "R1 1 42 B")).toEqual({
      kind: "report",
      node: A,
      on: true,
      stamp: { counter: 42, origin: "B" },
    });
  });
});
