// The in-memory broker's retained messages: bytes kept in a topic's own buffer and read back as the
// text they hold, whether the next payload is shorter, as long, or longer than the room kept.
import { describe, expect, it } from "vitest";
import { RetainedMessages } from "../retained.js";

/** A PUBLISH-like frame: four bytes of header, then the payload. */
function frame(payload: string): Buffer {
  return Buffer.concat([Buffer.from([0x31, 0, 0, 0]), Buffer.from(payload)]);
}

describe("RetainedMessages", () => {
  it("reads back each payload kept from a frame, shorter, longer or past its room", () => {
    const r = new RetainedMessages();
    r.keep("t/a", frame("R1 1 9 n1"), 4);
    expect(r.get("t/a")).toBe("R1 1 9 n1");
    r.keep("t/a", frame("R1 0 10 n1"), 4);
    expect(r.get("t/a")).toBe("R1 0 10 n1");
    r.keep("t/a", frame("R1 0"), 4);
    expect(r.get("t/a")).toBe("R1 0");
    r.keep("t/a", frame("R1 1 123456789012345 n1"), 4);
    expect(r.get("t/a")).toBe("R1 1 123456789012345 n1");
    expect(r.size).toBe(1);
  });

  it("does not share bytes with the frame it copied, nor between topics", () => {
    const r = new RetainedMessages();
    const f = frame("abc");
    r.keep("t/a", f, 4);
    r.keep("t/b", frame("xyz"), 4);
    f.fill(0x7a);
    expect(r.get("t/a")).toBe("abc");
    expect(r.get("t/b")).toBe("xyz");
  });

  it("keeps topics in the order first retained, text and bytes alike, and forgets deleted ones", () => {
    const r = new RetainedMessages();
    r.keep("t/a", frame("1"), 4);
    r.set("t/b", "2");
    r.keep("t/a", frame("3"), 4);
    r.keep("t/c", frame("4"), 4);
    expect([...r]).toEqual([
      ["t/a", "3"],
      ["t/b", "2"],
      ["t/c", "4"],
    ]);
    expect(r.delete("t/b")).toBe(true);
    expect(r.has("t/b")).toBe(false);
    r.keep("t/b", frame("5"), 4);
    expect([...r].map(([t]) => t)).toEqual(["t/a", "t/c", "t/b"]);
    r.clear();
    expect(r.get("t/a")).toBeUndefined();
    expect(r.size).toBe(0);
  });
});
