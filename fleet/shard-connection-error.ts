/**
 * What a shard says of an error on its watch client's connection to the broker (fleet/shard-run.ts).
 * One that comes while, or just after, the shard itself did not run (node/stall-watch.ts: stopped,
 * its VM paused) is the stall's: the broker closed the connection whose pings had stopped, and the
 * shard's first write once it ran again met the closed socket. A shard stopped 30 s (`kill -STOP`)
 * printed only `broker connection: write EPIPE`, with no word of why; it now says so, the error
 * kept. Any other error is told as it comes.
 */
import { type Stall, stallSeconds } from "../node/stall-watch.js";

export function connectionErrorLine(e: Error, stall: Stall | undefined): string {
  if (stall === undefined) return `broker connection: ${e.message}`;
  return `broker connection: this shard did not run for ${stallSeconds(stall)} s (stopped or paused: its own stall, not the broker's), and its connection did not outlast it (${e.message}): reconnecting`;
}
