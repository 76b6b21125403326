/**
 * The summary's lines on the run's claim on its ids (the report's `claim`, fleet/claim-report.ts):
 * each time it was not held mid-run, why, and whether it was held again or left to another run.
 */
import type { Report } from "../fleet/report.js";
import { atText, timeText } from "../fleet/when-text.js";

const WHY = {
  connection: "its connection to the broker lost",
  cleared: "cleared on the broker, its connection up",
  replaced: "replaced on the broker, its connection up",
} as const;

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One line a loss of the claim; nothing when it was never lost. */
export function claimLines(r: Pick<Report, "claim">): string {
  const c = r.claim;
  if (c === undefined) return "";
  const lines = c.losses.map((l) => {
    const end =
      l.takenBy !== undefined
        ? `another run claimed ${l.takenBy.ids} of the ids ${s(l.takenBy.afterMs)} later (${l.takenBy.topic}): left to it, both runs' nodes on those ids`
        : l.heldAgainAfterMs !== undefined
          ? `held again ${s(l.heldAgainAfterMs)} later`
          : `not held again by the end (${timeText(l.untilEndMs ?? l.atMs)}): the ids unclaimed until then`;
    return `       claim lost     ${atText(l.atMs)} (${WHY[l.why] ?? l.why}), ${end}`;
  });
  return `\n${lines.join("\n")}`;
}
