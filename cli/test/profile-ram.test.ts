/**
 * A device profile whose buffers the board cannot hold is a usage error told before anything starts,
 * on either clock: it used to start the run on real time and end it, 30 s on, with every node
 * refusing the profile as it powered on.
 */
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runCli } from "./auth-broker.js";

const BIG = fileURLToPath(new URL("../../node/test/fixtures/big-buffer.json", import.meta.url));

it.each(["real", "virtual"])(
  "sim --profile with a 1 KB PubSubClient buffer on an Uno: exit 2 before anything starts (%s clock)",
  async (clock) => {
    const r = await runCli([
      "sim",
      "--headless",
      "--nodes",
      "2",
      "--duration",
      "5",
      "--clock",
      clock,
      "--profile",
      BIG,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /twinfleet sim: --profile: profile big-buffer: needs \d+ B of SRAM but the ATmega328P has 2048 B \(\d+ B over; .*pubsubclient buffer 1026, sketch receive copy 1024/,
    );
    expect(r.out).toBe(""); // nothing started: no progress line, no report (a run that started would print both)
  },
);
