// The in-memory transport's send window: sends while the receiver has made room, holds the rest in
// order until credit comes, lets one write larger than the window go alone, and drops what waits.
import { describe, expect, it } from "vitest";
import { STREAM_WINDOW } from "../port-frames.js";
import { SendWindow } from "../port-window.js";

const half = STREAM_WINDOW / 2;

function window(copy = false) {
  const sent: Buffer[] = [];
  return { sent, w: new SendWindow((b) => sent.push(b), copy) };
}

describe("SendWindow", () => {
  it("holds what does not fit and sends it, in order, as credit comes", () => {
    const { sent, w } = window();
    const done: string[] = [];
    for (const name of ["a", "b", "c", "d"]) w.write(Buffer.alloc(half, name), () => done.push(name));
    expect(sent.map((b) => b.toString("latin1", 0, 1))).toEqual(["a", "b"]);
    expect(done).toEqual(["a", "b"]);
    w.credit(half);
    expect(done).toEqual(["a", "b", "c"]);
    // A small write queues behind what waits, however little room it needs.
    w.write(Buffer.from("e"), () => done.push("e"));
    expect(done).toEqual(["a", "b", "c"]);
    w.credit(2 * half);
    expect(done).toEqual(["a", "b", "c", "d", "e"]);
    expect(sent.map((b) => b.toString("latin1", 0, 1))).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("lets a write larger than the window go once nothing is outstanding", () => {
    const { sent, w } = window();
    w.write(Buffer.alloc(3 * STREAM_WINDOW));
    expect(sent).toHaveLength(1);
    w.write(Buffer.alloc(1));
    expect(sent).toHaveLength(1);
    w.credit(3 * STREAM_WINDOW);
    expect(sent).toHaveLength(2);
  });

  it("keeps a copy of what waits when the writer reuses its buffer", () => {
    const { sent, w } = window(true);
    w.write(Buffer.alloc(STREAM_WINDOW, "x"));
    const reused = Buffer.from("held");
    w.write(reused);
    reused.write("gone");
    w.credit(STREAM_WINDOW);
    expect(sent[1]?.toString()).toBe("held");
  });

  it("drops what waits, telling each writer the error", () => {
    const { sent, w } = window();
    const errors: (Error | null | undefined)[] = [];
    w.write(Buffer.alloc(STREAM_WINDOW), (e) => errors.push(e));
    w.write(Buffer.alloc(1), (e) => errors.push(e));
    const cut = new Error("cut");
    w.drop(cut);
    w.credit(STREAM_WINDOW);
    expect(sent).toHaveLength(1);
    expect(errors).toEqual([undefined, cut]);
  });
});
