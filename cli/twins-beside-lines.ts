/**
 * The summary's lines on the twins services beside a run (cli/sim-summary.ts): the joined service
 * leaving and coming back, other controllers beside it or beside the run's own, and the nodes the
 * joined service held no twin of at the end.
 */
import { heldJudgement } from "../fleet/joined-held.js";
import type { Report } from "../fleet/report.js";
import { atText, timeText } from "../fleet/when-text.js";

/**
 * Each time the twins service the run joined left the broker mid-run, the fleet's nodes it held no
 * twin of at the end, and an answer it did not give; nothing when it stayed and held them all.
 */
export function joinedLines(r: Pick<Report, "joinedTwins" | "brokerOutages">): string {
  const j = r.joinedTwins;
  if (j === undefined) return "";
  // Each beside the controllers there when it came (the joined one may have left by then).
  const named = (ids: readonly string[]) =>
    ids.map((id) => (id === j.clientId ? `${id} (joined)` : id)).join(", ");
  const beside = (j.beside ?? []).map(
    (b) =>
      `       twins beside   ${b.clientId} ${b.atMs <= 0 ? "from the start" : `from ${timeText(b.atMs)}`}${b.leftAtMs !== undefined ? ` to ${timeText(b.leftAtMs)}` : ""}: another controller beside ${named(b.with ?? [j.clientId])}, each undoing the other's pairings and sets`,
  );
  const handed = (j.handedOver ?? []).map(
    (h) =>
      `       twins left     ${named([h.clientId])} ${atText(h.atMs)}; ${h.stayed.join(", ")}, beside it, still controlled the fleet`,
  );
  // Each absence names the service that left: after the first, often one started in the joined one's place.
  const lines = j.left.map((a) => {
    const who = a.clientId;
    const back =
      a.backAtMs === undefined
        ? "not back by the end: the fleet had no controller from then on"
        : `back ${atText(a.backAtMs)}${a.backAs !== undefined && a.backAs !== who ? ` as ${a.backAs}` : ""}${a.restarted ? " (restarted)" : ""}`;
    return `       twins left     ${who}${who === j.clientId ? " (joined)" : ""} ${atText(a.atMs)}, ${back}`;
  });
  const gone = (r.brokerOutages ?? []).find((o) => !o.back);
  const held = heldJudgement(j.held, gone?.atMs);
  const all = [
    ...beside,
    ...handed,
    ...lines,
    ...(held.fail !== undefined ? [`  FAIL twins hold     ${held.fail}`] : []),
    ...(held.unknown !== undefined ? [`       twins hold     ${held.unknown}`] : []),
  ];
  return all.length === 0 ? "" : `\n${all.join("\n")}`;
}

/** Other twins services started beside the run's own mid-run (in the boot: before the presses); nothing when none. */
export function ownLines(r: Pick<Report, "ownTwins">): string {
  const o = r.ownTwins;
  if (o === undefined) return "";
  const lines = o.beside.map(
    (b) =>
      `       twins beside   ${b.clientId} from ${timeText(b.atMs)}${b.leftAtMs !== undefined ? ` to ${timeText(b.leftAtMs)}` : ""}: another controller beside ${o.clientId} (this run's), each undoing the other's pairings and sets`,
  );
  return `\n${lines.join("\n")}`;
}
