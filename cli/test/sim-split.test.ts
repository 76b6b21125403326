/**
 * Whether a headless virtual run goes over worker threads (cli/commands/sim-split.ts): by default
 * only when every part gets MIN_DEFAULT_PART_NODES nodes; --workers given is taken as asked.
 */
import { describe, expect, it } from "vitest";
import { chooseVirtualSplit, MIN_DEFAULT_PART_NODES } from "../commands/sim-split.js";

function choose(nodes: number, workers: number, given: boolean) {
  const notes: string[] = [];
  const split = chooseVirtualSplit({ clock: "virtual", nodes, workers }, false, given, (l) => notes.push(l));
  return { parts: split?.ranges.length ?? 1, notes };
}

describe("the virtual split's default", () => {
  it("keeps a fleet too small for two parts in one thread, without a note", () => {
    expect(choose(300, 4, false)).toEqual({ parts: 1, notes: [] });
    expect(choose(2 * MIN_DEFAULT_PART_NODES - 8, 4, false)).toEqual({ parts: 1, notes: [] });
  });

  it("gives each part at least the minimum, up to the threads it may use", () => {
    expect(choose(2 * MIN_DEFAULT_PART_NODES, 4, false).parts).toBe(2);
    expect(choose(3 * MIN_DEFAULT_PART_NODES, 4, false).parts).toBe(3);
    expect(choose(40 * MIN_DEFAULT_PART_NODES, 4, false).parts).toBe(4);
    expect(choose(40 * MIN_DEFAULT_PART_NODES, 1, false).parts).toBe(1);
  });

  it("splits a small fleet when --workers asks for it", () => {
    expect(choose(40, 2, true).parts).toBe(2);
    expect(choose(40, 0, true).parts).toBe(1);
  });
});
