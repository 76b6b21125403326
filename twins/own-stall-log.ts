/**
 * The line that names a stall of the service's own process (node/stall-watch.ts: stopped with
 * `kill -STOP`, its VM paused, its host swapping, its event loop held): said once, as the service
 * runs again, with what the service made of it. Before, a stall that cut no connection was said
 * nowhere: a save under way then was told as a frozen disk, and the minutes it covered read `down`
 * with no line saying why.
 */
import type { Logger } from "pino";
import { type StallWatch, stallSeconds } from "../node/stall-watch.js";

/**
 * Logs each stall `watch` finds, at WARN, but for one `linkSays` takes (the broker link down or
 * connecting: its own lines name the stall then); the function returned stops it.
 */
export function tellOwnStalls(
  watch: StallWatch,
  logger: Logger,
  linkSays: () => boolean = () => false,
): () => void {
  return watch.onStall((s) => {
    if (linkSays()) return;
    logger.warn(
      { stalledS: Number(stallSeconds(s)) },
      `twins: the service itself did not run for ${stallSeconds(s)} s (its host stopped or paused it, or its event loop was held): ` +
        "its own stall, not the fleet's, the broker's or its disk's; the history's minutes it covers are marked down " +
        "(not running), and writes under way then are not judged stalled by it",
    );
  });
}
