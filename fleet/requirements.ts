/**
 * The paper's requirements checked on a run report (sync under 1 s outside the fault windows,
 * registration under 30 s, nothing lost, no regression, nothing diverged), and the failures
 * `--assert` prints.
 */
import { heldFailures } from "./joined-held.js";
import type { Report } from "./report.js";
import { threadDeathLine } from "./thread-death.js";

/**
 * Pairs were measured, and every one overlapped a fault's window (a partition from 0 s longer than the
 * presses): the sync latency outside the faults, which the requirement judges, was not measured at all.
 */
export function syncUnmeasured(r: Pick<Report, "syncOutsideFaults" | "deliveries" | "lost">): boolean {
  return r.syncOutsideFaults?.count === 0 && r.deliveries + r.lost > 0;
}

/**
 * The pairs of a count that were the run's own stalls' (fleet/stall-report.ts): a press in flight when
 * its process stopped is delivered when it runs again, seconds later. The failure stands — the pairs
 * were not delivered in time — but the reason is the host's, not the fleet's. "" when none.
 */
export function inStalls(
  r: Pick<Report, "stalls">,
  count: (s: NonNullable<Report["stalls"]>[number]) => number,
): string {
  const stalls = (r.stalls ?? []).filter((s) => count(s) > 0);
  const n = stalls.reduce((sum, s) => sum + count(s), 0);
  if (n === 0) return "";
  const shards = [...new Set(stalls.flatMap((s) => (s.shard === undefined ? [] : [s.shard])))];
  const whose =
    shards.length === 0 ? "the run's own" : `${shards.map((k) => `shard ${k}`).join(" and ")}'s own`;
  const s = stalls.reduce((sum, x) => sum + x.durationMs, 0) / 1000;
  return `${n} of them in ${whose} stall${stalls.length > 1 ? "s" : ""} (not run for ${s.toFixed(1)} s)`;
}

/** `inStalls` as a clause of a failure's reasons. */
function stallReason(
  r: Pick<Report, "stalls">,
  count: (s: NonNullable<Report["stalls"]>[number]) => number,
): string {
  const share = inStalls(r, count);
  return share === "" ? "" : `; ${share}`;
}

/** The paper's requirements (sync < 1 s, registration < 30 s, nothing lost) plus convergence. */
export function checkRequirements(r: Omit<Report, "requirements">): Report["requirements"] {
  const sync = r.syncOutsideFaults ?? r.sync;
  return {
    syncP99Under1s: sync.p99Ms < 1000 && !syncUnmeasured(r),
    registrationUnder30s: r.registration.registered === r.scenario.nodes && r.registration.maxMs < 30_000,
    nothingLost: r.lostForGood === 0 && r.lostOutsideFaults === 0,
    noRegressions: r.regressions === 0,
    nothingDiverged: r.diverged === 0,
    simulatorKeptUp: r.sim.keptUp,
  };
}

/** Human-readable failures of the requirements, empty when all hold. */
export function requirementFailures(r: Report): string[] {
  const f: string[] = [];
  if (r.threadDied) f.push(`${threadDeathLine(r.threadDied)}; the figures cover the run until then`);
  const outside = r.syncOutsideFaults !== undefined;
  if (syncUnmeasured(r)) {
    f.push(
      "sync latency not measured: every (press, follower) pair overlapped a fault's window, none is outside them (start the faults later, or give the presses more --duration after them)",
    );
  } else if (!r.requirements.syncP99Under1s) {
    const p99 = (r.syncOutsideFaults ?? r.sync).p99Ms;
    // An outage the run did not inject is in the figures: say so, with how long it lasted.
    const outages = r.brokerOutages ?? [];
    const lostS = outages.reduce((s, o) => s + o.durationMs, 0) / 1000;
    const why =
      outages.length === 0
        ? ""
        : `; the broker was lost ${outages.length === 1 ? "once" : `${outages.length} times`}, ${lostS.toFixed(1)} s in all`;
    f.push(
      `sync p99 ${p99.toFixed(1)} ms${outside ? " outside the fault windows" : ""} is not under 1 s${why}`,
    );
  }
  if (!r.requirements.registrationUnder30s) {
    f.push(
      `registration: ${r.registration.registered}/${r.scenario.nodes} registered, slowest ${(r.registration.maxMs / 1000).toFixed(1)} s (limit 30 s)`,
    );
  }
  if (r.lostForGood > 0) {
    const inOutages = (r.brokerOutages ?? []).reduce((n, o) => n + o.lostForGood, 0);
    const why = `${inOutages > 0 ? `; ${inOutages} of them while the broker was lost` : ""}${stallReason(r, (s) => s.lostForGood)}`;
    const withPower = r.lostWithPower ?? 0;
    const power =
      withPower > 0
        ? `; ${withPower} of them presses held in RAM by nodes not synced (offline or syncing) and lost with their power before they synced again`
        : "";
    const away = r.lostAtNodesAway;
    const off = away
      ? `; ${away.pairs} of them owed to ${away.nodes.join(", ")}, offline at the end (switched off?)`
      : "";
    f.push(
      `${r.lostForGood} (press, follower) deliveries lost for good (never reflected${why}${power}${off})`,
    );
  }
  if (r.lostOutsideFaults > 0) {
    // Without injected faults every such pair is counted here, those of the broker's outages too.
    const inOutages = outside
      ? 0
      : (r.brokerOutages ?? []).reduce((n, o) => n + o.lateBeyond5s + o.lostForGood, 0);
    const why = `${inOutages > 0 ? `; ${inOutages} of them while the broker was lost` : ""}${outside ? "" : stallReason(r, (s) => s.lateBeyond5s + s.lostForGood)}`;
    f.push(
      `${r.lostOutsideFaults} (press, follower) deliveries not reflected within 5 s${outside ? " outside the fault windows" : why}`,
    );
  }
  if (!r.requirements.noRegressions) {
    f.push(`${r.regressions} regressions: a node went back to an older state than it held`);
  }
  if (!r.requirements.nothingDiverged) f.push(`${r.diverged} nodes diverged from what their pairing implies`);
  const clash = r.sessionClashes;
  if (clash !== undefined) {
    f.push(
      `${clash.nodes} nodes' sessions were taken over again and again by another client with the same id (${clash.ids.join(", ")}${clash.nodes > clash.ids.length ? ", …" : ""}): the figures mix in its traffic`,
    );
  }
  const cut = r.sessionsCutAtConnack;
  if (cut !== undefined) {
    f.push(
      `${cut.nodes} nodes' sessions were closed by the broker right after it accepted them, before it answered anything (${cut.ids.join(", ")}${cut.nodes > cut.ids.length ? ", …" : ""}): the broker ends them itself, no other client with their ids was seen`,
    );
  }
  f.push(...heldFailures(r.joinedTwins?.held));
  if (r.presses === 0 && r.scenario.ratePerNodePerMin > 0)
    f.push(
      `no press was made${r.stoppedEarlyS !== undefined ? ` (the presses were stopped after ${r.stoppedEarlyS} s)` : ""}: nothing was measured`,
    );
  // A fault that could not be carried out leaves the run short of what it was asked to test; one the
  // fleet had not recovered from by the end of the settle left nodes not back.
  for (const [i, fault] of r.faults.entries()) {
    const what = `fault ${i + 1} (${fault.kind} at ${(fault.atMs / 1000).toFixed(1)} s)`;
    if (fault.error !== undefined) f.push(`${what} could not be carried out: ${fault.error}`);
    else if (fault.recoveryMs === null)
      f.push(`${what}: the fleet had not recovered from it by the end of the run`);
  }
  if (!r.requirements.simulatorKeptUp) {
    f.push(
      `the simulator did not keep up (event-loop lag p99 ${r.sim.lagP99Ms.toFixed(0)} ms): figures are unreliable`,
    );
  }
  return f;
}
