/**
 * The board profiles against the sketch they simulate: each figure of `uno-w5100` and `due-w5100`
 * that the sketch sets in `firmware/twinfleet_node/config.h` holds the same value, so the simulated
 * nodes retry, wait and retransmit as a flashed board does. The reconnect period had drifted: the
 * sketch retried every 2 s while the profiles (and every recovery figure in the docs) had 5 s.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadProfile } from "../profile.js";

const CONFIG_H = fileURLToPath(new URL("../../firmware/twinfleet_node/config.h", import.meta.url));

/** The numeric `#define NAME value` lines of config.h. */
function defines(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of readFileSync(CONFIG_H, "utf8").matchAll(/^#define (TF_\w+) (\d+)\s*(?:\/\/.*)?$/gm))
    out.set(m[1] as string, Number(m[2]));
  return out;
}

describe("the board profiles and the sketch's config.h", () => {
  it.each(["uno-w5100", "due-w5100"])(
    "%s holds the sketch's reconnect period, sync grace, button debounce and W5100 retransmissions",
    (name) => {
      const h = defines();
      const p = loadProfile(name);
      expect({
        reconnectMs: p.sketch.reconnectPeriodMs,
        syncGraceMs: p.sketch.syncGraceMs,
        debounceMs: p.sketch.debounceMs,
        rtrMs: p.w5100.rtrMs,
        rcr: p.w5100.rcr,
      }).toEqual({
        reconnectMs: h.get("TF_RECONNECT_MS"),
        syncGraceMs: h.get("TF_SYNC_GRACE_MS"),
        debounceMs: h.get("TF_DEBOUNCE_MS"),
        rtrMs: h.get("TF_RETRANSMISSION_TIMEOUT_MS"),
        rcr: h.get("TF_RETRANSMISSION_COUNT"),
      });
    },
  );
});
