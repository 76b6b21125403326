/**
 * A listening port in the kernel's ephemeral range is told at the start, with the range and the fix;
 * the range and the reserved ports are read as the kernel writes them.
 */
import { describe, expect, it } from "vitest";
import {
  ephemeralPortWarning,
  ephemeralPortWarnings,
  parseReserved,
  readPortRanges,
} from "../ephemeral-ports.js";

const files = (range: string, reserved?: string) => (path: string) => {
  if (path.endsWith("ip_local_port_range")) return range;
  if (reserved === undefined) throw new Error("ENOENT");
  return reserved;
};

describe("the ephemeral port range", () => {
  it("is read from /proc as the kernel writes it, reserved ports and ranges with it", () => {
    expect(readPortRanges(files("32768\t60999\n", "8080,46700-46720\n"))).toEqual({
      low: 32768,
      high: 60999,
      reserved: [
        [8080, 8080],
        [46700, 46720],
      ],
    });
    expect(readPortRanges(files("32768\t60999\n"))?.reserved).toEqual([]);
    expect(parseReserved("\n")).toEqual([]);
    // Not Linux: nothing to say.
    expect(
      readPortRanges(() => {
        throw new Error("ENOENT");
      }),
    ).toBeUndefined();
  });

  it("warns of a port inside it, naming the flag, the range and the fix; not of one outside or reserved", () => {
    const ranges = readPortRanges(files("32768 60999", "46700-46720"));
    expect(ephemeralPortWarning("--port", 46710, ranges)).toBeUndefined();
    const w = ephemeralPortWarning("--http", 46721, ranges);
    expect(w).toMatch(
      /^--http 46721 is in the kernel's ephemeral port range \(32768-60999, net\.ipv4\.ip_local_port_range\)/,
    );
    expect(w).toContain("connect to itself");
    expect(w).toContain(
      "Pick a port below 32768, or reserve this one (sysctl -w net.ipv4.ip_local_reserved_ports=46721",
    );
    for (const outside of [0, 1883, 32767, 61000])
      expect(ephemeralPortWarning("--port", outside, ranges)).toBeUndefined();
    expect(ephemeralPortWarning("--port", 32768, ranges)).toBeDefined();
    expect(ephemeralPortWarning("--port", 60999, ranges)).toBeDefined();
    expect(ephemeralPortWarning("--port", 46000, undefined)).toBeUndefined();
    expect(
      ephemeralPortWarnings(
        [
          ["--port", 40000],
          ["--ws-port", undefined],
          ["--http", 9100],
        ],
        ranges,
      ).map((x) => x.split(" ").slice(0, 2).join(" ")),
    ).toEqual(["--port 40000"]);
  });
});
