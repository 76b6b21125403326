// parserIdle: when a full mqtt-packet parser may be dropped, because a fresh one would read the next
// bytes the same — between whole packets, never in the middle of one.
import { generate, type Packet, parser } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { parserIdle } from "../mqtt-frames.js";

describe("parserIdle", () => {
  it("is idle fresh and after whole packets, not with half a packet read", () => {
    const p = parser({ protocolVersion: 4 });
    const got: Packet[] = [];
    p.on("packet", (pk: Packet) => got.push(pk));
    expect(parserIdle(p)).toBe(true);
    const suback = generate({ cmd: "suback", messageId: 7, granted: [0] });
    expect(p.parse(suback)).toBe(0);
    expect(parserIdle(p)).toBe(true);
    // Header and length read, nothing buffered, the body still to come: not idle.
    expect(p.parse(suback.subarray(0, 2))).toBe(0);
    expect(parserIdle(p)).toBe(false);
    expect(p.parse(suback.subarray(2))).toBe(0);
    expect(parserIdle(p)).toBe(true);
    expect(got.map((k) => k.cmd)).toEqual(["suback", "suback"]);
  });
});
