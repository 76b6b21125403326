/**
 * The summary's lines on the run's claim on its ids (the report's `claim`, fleet/claim-report.ts, and
 * a merged report's `shardClaims`, fleet/shard-claims.ts): each time it was not held mid-run, why,
 * and whether it was held again, left to another run or given up; a run that went on without one
 * at all; in a merged report, which shard each line is of.
 */
import type { ClaimReport } from "../fleet/claim-report.js";
import type { Report } from "../fleet/report.js";
import { atText, timeText } from "../fleet/when-text.js";

const WHY = {
  connection: "its connection to the broker lost",
  cleared: "cleared on the broker, its connection up",
  replaced: "replaced on the broker, its connection up",
} as const;

const NOT_HELD = {
  cleared: "cleared on the broker before the claim step finished",
  "not-passed-back": "never passed back by the broker (its access rules?)",
} as const;

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One claim's lines; `of` names its shard in a merged report. */
function linesOf(c: ClaimReport, of: string): string[] {
  if (c.held === false)
    return [
      `       claim not held ${of}none all run: ${NOT_HELD[c.why ?? "not-passed-back"] ?? c.why}, waited ${s(c.waitedMs ?? 0)}, then started without one (${c.topic})`,
    ];
  return c.losses.map((l) => {
    const end =
      l.takenBy !== undefined
        ? `another run claimed ${l.takenBy.ids} of the ids ${s(l.takenBy.afterMs)} later (${l.takenBy.topic}): left to it, both runs' nodes on those ids`
        : l.heldAgainAfterMs !== undefined
          ? `held again ${s(l.heldAgainAfterMs)} later`
          : l.gaveUp !== undefined
            ? `given up, cleared ${l.gaveUp.clears} times in ${s(l.gaveUp.withinMs)} (something keeps clearing it): the ids unclaimed until the end (${timeText(l.untilEndMs ?? l.atMs)})`
            : `not held again by the end (${timeText(l.untilEndMs ?? l.atMs)}): the ids unclaimed until then`;
    return `       claim lost     ${of}${atText(l.atMs)} (${WHY[l.why] ?? l.why}), ${end}`;
  });
}

/** One line a loss of the claim (or its absence all run); nothing when it was held throughout. */
export function claimLines(r: Pick<Report, "claim" | "shardClaims">): string {
  const lines = [
    ...(r.claim !== undefined ? linesOf(r.claim, "") : []),
    ...(r.shardClaims ?? []).flatMap((c) => linesOf(c, `shard ${c.shard}: `)),
  ];
  return lines.length > 0 ? `\n${lines.join("\n")}` : "";
}
