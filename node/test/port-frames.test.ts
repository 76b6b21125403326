// When the in-memory transport's writer posts (node/port-frames.ts FrameWriter): bytes go as soon as
// the task that wrote them is done — a node's exact send or the broker's forward waits for no later
// turn of the event loop — while credit and control frames alone wait for the next turn, and ride
// along with any bytes posted before then.
import { describe, expect, it } from "vitest";
import { type Frame, FrameKind, FrameWriter, readBatch } from "../port-frames.js";

function recorder(): { writer: FrameWriter; batches: Frame[][]; turn: () => void } {
  const batches: Frame[][] = [];
  let turns: (() => void)[] = [];
  const writer = new FrameWriter(
    {
      postMessage: (b) => {
        const frames: Frame[] = [];
        readBatch(b, (f) => frames.push(f));
        batches.push(frames);
      },
    },
    (fn) => turns.push(fn),
  );
  const turn = () => {
    const due = turns;
    turns = [];
    for (const fn of due) fn();
  };
  return { writer, batches, turn };
}

describe("FrameWriter timing", () => {
  it("posts bytes once the writing task is done, in one batch for all its writes, before the next turn", async () => {
    const { writer, batches } = recorder();
    writer.data(1, Buffer.from("ab"));
    writer.data(2, Buffer.from("c"));
    expect(batches).toHaveLength(0);
    await Promise.resolve();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.map((f) => [f.kind, f.stream, f.bytes?.toString()])).toEqual([
      [FrameKind.data, 1, "ab"],
      [FrameKind.data, 2, "c"],
    ]);
  });

  it("holds credit and control frames alone until the next turn", async () => {
    const { writer, batches, turn } = recorder();
    writer.credit(3, 10);
    writer.control(FrameKind.open, 4);
    await Promise.resolve();
    expect(batches).toHaveLength(0);
    turn();
    expect(batches.map((b) => b.map((f) => f.kind))).toEqual([[FrameKind.credit, FrameKind.open]]);
  });

  it("sends waiting credit along with bytes, and nothing twice", async () => {
    const { writer, batches, turn } = recorder();
    writer.credit(3, 10);
    writer.data(3, Buffer.from("x"));
    await Promise.resolve();
    turn();
    expect(batches.map((b) => b.map((f) => f.kind))).toEqual([[FrameKind.credit, FrameKind.data]]);
  });
});
