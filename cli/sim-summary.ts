/**
 * What `twinfleet sim` prints of a run: the progress line while it runs and the summary at its end
 * (requirements, faults, virtual time, real loss, the node's CPU and link, the simulator's lag).
 */

import { describeLoss } from "../fleet/loss-log.js";
import {
  type BrokerOutageReport,
  frozenAfterWait,
  heldNodes,
  type MergedReport,
  type Report,
  syncUnmeasured,
} from "../fleet/report.js";
import { inStalls } from "../fleet/requirements.js";
import type { Progress } from "../fleet/run.js";
import { settleLine } from "../fleet/settle.js";
import type { StallReport } from "../fleet/stall-report.js";
import { threadDeathLine } from "../fleet/thread-death.js";
import { atText, timeText } from "../fleet/when-text.js";
import { STALL_AFTERMATH_MS } from "../node/stall-watch.js";
import type { FaultOutcome } from "../sim/recovery.js";
import { claimLines } from "./claim-lines.js";
import { hoursColumn, hoursOf } from "./duration-text.js";
import { dropsLine, kernelLine, lostBy } from "./link-lines.js";
import { movedLines } from "./moved-lines.js";
import { joinedLines, ownLines } from "./twins-beside-lines.js";

/**
 * One progress line; `now` is the run's clock (for the settle's countdown), `previous` the line
 * before on virtual time (its pace since then is told beside the pace since the start).
 */
export function progressLine(p: Progress, now: number, previous?: Progress): string {
  return [
    // Five digits: a day's run (86,400 s) keeps its column past 9,999 s.
    `[${p.elapsedS.toFixed(0).padStart(5)} s${hoursColumn(p.elapsedS)} ${p.phase.padEnd(6)}]`,
    `registered ${p.registered}/${p.nodes}`,
    // The nodes online now, while a fault or an outage lasts or some node is still back from one
    // (it lost its connection and has not synced since); not once the run is done (its nodes are
    // switched off then), nor for nodes still on their first sync.
    ...((p.faults > 0 || p.brokerLostS !== undefined || (p.away > 0 && p.phase !== "done")) &&
    p.online < p.registered
      ? [`online ${p.online}/${p.nodes}`]
      : []),
    `presses ${p.presses}${p.held > 0 ? ` (+${p.held} held offline)` : ""}`,
    `deliveries ${p.deliveries}`,
    `sync p50 ${p.p50Ms.toFixed(1)} ms p99 ${p.p99Ms.toFixed(1)} ms`,
    `lost ${p.lost}${p.lostForGood > 0 ? ` (${p.lostForGood} for good)` : ""}`,
    `loss ${p.lossPct}%`,
    ...(p.faults > 0 ? [`faults ${p.faults}`] : []),
    ...(p.brokerLostS !== undefined
      ? [
          `BROKER LOST ${p.brokerLostS.toFixed(0)} s${p.brokerRefused !== undefined ? " (LOGIN REFUSED)" : ""}`,
        ]
      : []),
    ...(p.clashes !== undefined ? [`IDS IN USE ${p.clashes}`] : []),
    ...(p.cutAtConnack !== undefined ? [`CLOSED AT CONNACK ${p.cutAtConnack}`] : []),
    p.virtual
      ? `virtual ×${pace(p.virtual.speedup)} real (${p.virtual.wallS.toFixed(0)} s wall${recentPace(p, previous)})`
      : `lag p99 ${p.lagP99Ms.toFixed(0)} ms`,
    ...(p.settle ? [settleLine(p.settle, now)] : []),
  ].join("  ");
}

/** Virtual seconds per wall second, as the progress line shows it. */
function pace(speedup: number): string {
  return speedup.toFixed(speedup < 10 ? 1 : 0);
}

/**
 * The pace since the line before (`; ×84 over the last 3600 s`), or nothing: the figure before it is
 * the mean since the start, which hides a run that slows down as its span goes on.
 */
function recentPace(p: Progress, previous: Progress | undefined): string {
  const wallS = (p.virtual?.wallS ?? 0) - (previous?.virtual?.wallS ?? Number.POSITIVE_INFINITY);
  const virtualS = p.elapsedS - (previous?.elapsedS ?? 0);
  if (!(wallS > 0) || !(virtualS > 0)) return "";
  return `; ×${pace(virtualS / wallS)} over the last ${virtualS.toFixed(0)} s`;
}

/** What was cut short: the settle of a run; in a merged report, which shards stopped and when. */
function cutShortWhat(r: Report): string {
  const lines = (r as Partial<MergedReport>).shards?.lines ?? [];
  const cut = lines.flatMap((l) => (l.cutShort === undefined ? [] : [{ shard: l.shard, ...l.cutShort }]));
  const where =
    r.cutBefore === "presses"
      ? "the run ended before its presses began"
      : r.cutBefore === "settle"
        ? "the run ended in its presses, before its settle"
        : `the settle was stopped after ${r.sim.settleS.toFixed(1)} s`;
  if (cut.length === 0)
    return r.cutBefore === "presses"
      ? `${where}: what it measured is the boot (registration)`
      : `${where}: deliveries still in flight count as lost, nodes still recovering as diverged`;
  const d = r.scenario.durationS;
  return cut
    .map((c) =>
      c.afterPressS === 0
        ? `shard ${c.shard} stopped before its presses began: its nodes and the ${c.unjudgedPairs} pairs pressed to them are in no figure`
        : c.afterPressS < d
          ? `shard ${c.shard} stopped ${c.afterPressS.toFixed(1)} s into the ${d} s of presses: the ${c.unjudgedPairs} pairs pressed later to its nodes are in no figure, those in flight then count as lost, its nodes are not judged for divergence`
          : `shard ${c.shard} stopped in its settle, ${(c.afterPressS - d).toFixed(1)} s after the presses: deliveries still in flight to its nodes count as lost, its nodes still recovering as diverged`,
    )
    .join("; ");
}

export function summary(r: Report): string {
  const ok = (b: boolean) => (b ? "ok  " : "FAIL");
  const q = r.requirements;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const lat = (s: Report["sync"]) =>
    `p50 ${ms(s.p50Ms)}  p90 ${ms(s.p90Ms)}  p99 ${ms(s.p99Ms)}  max ${ms(s.maxMs)}`;
  const outside = r.syncOutsideFaults;
  // With no pair outside the fault windows there is no figure to give: 0.0 ms would be no pair's.
  const outsideLat = syncUnmeasured(r)
    ? "not measured: every pair overlapped a fault's window"
    : outside && lat(outside);
  const syncLines = outside
    ? `  ${ok(q.syncP99Under1s)} sync latency   ${outsideLat}  (< 1 s, outside the fault windows: ${outside.count} pairs)
       all presses    ${lat(r.sync)}`
    : `  ${ok(q.syncP99Under1s)} sync latency   ${lat(r.sync)}  (< 1 s)`;
  const withPower = r.lostWithPower ?? 0;
  const away = r.lostAtNodesAway;
  const powerPart = `${withPower > 0 ? `, ${withPower} of them held by nodes not synced when their power went` : ""}${away ? `, ${away.pairs} of them owed to ${away.nodes.join(", ")}, offline at the end` : ""}`;
  // A press in flight when the run's process stopped arrives when it runs again: the stall's pairs.
  const stalled = inStalls(r, (s) => s.lateBeyond5s + s.lostForGood);
  const stallPart = stalled === "" ? "" : `, ${stalled}`;
  const lostLine = `  ${ok(q.nothingLost)} lost           ${r.lost} later than 5 s (${r.late} late, ${r.lostForGood} lost for good${powerPart}${stallPart})${outside ? `, ${r.lostOutsideFaults} outside the fault windows` : ""}`;
  // Stopped before its first press was due (`after 0.0 s of 20 s` read as presses begun), it made none.
  const early =
    r.stoppedEarlyS === undefined
      ? ""
      : r.stoppedBeforePresses === true
        ? "  STOPPED EARLY  the presses were stopped before they began: no press was made\n"
        : `  STOPPED EARLY  the presses were stopped after ${r.stoppedEarlyS.toFixed(1)} s of ${r.scenario.durationS} s: the figures cover that much\n`;
  const died = r.threadDied
    ? `  THREAD DIED    ${threadDeathLine(r.threadDied)}; the figures cover the run until then\n`
    : "";
  const cut = r.cutShort ? `${died}${early}  CUT SHORT      ${cutShortWhat(r)}\n` : `${died}${early}`;
  return `
${r.scenario.nodes} nodes${fleetOf(r)} (${r.scenario.profile}), ${r.scenario.topology}, ${describeLoss(r.loss)}, ${r.presses} presses, ${r.deliveries} deliveries${supersededNote(r)}${debouncedNote(r)}${stallLines(r.stalls)}
${cut}${syncLines}
  ${ok(q.registrationUnder30s)} registration   ${r.registration.registered}/${r.scenario.nodes}  p50 ${(r.registration.p50Ms / 1000).toFixed(2)} s  max ${(r.registration.maxMs / 1000).toFixed(2)} s  (< 30 s)${notRegisteredLine(r)}
${lostLine}
  ${ok(q.noRegressions)} regressions    ${r.regressions}
  ${ok(q.nothingDiverged)} diverged       ${r.diverged}${faultLines(r)}${outageLines(r.brokerOutages ?? [])}${movedLines(r)}${joinedLines(r)}${ownLines(r)}${claimLines(r)}${pairingLine(r)}${outsideLine(r)}${clashLine(r)}${cutLine(r)}${virtualLine(r)}${kernelLine(r)}
       cpu            mean ${cpuPct(r.cpu.meanPct)} %  p99 ${cpuPct(r.cpu.p99Pct)} %  max ${cpuPct(r.cpu.maxPct)} %
       link           ${r.link.retransmissions} retransmissions, ${r.link.timeouts} timeouts, ${r.link.disconnects} sessions lost${lostBy(r.link)}, ${r.link.reconnects} reconnects${dropsLine(r.link)}
  ${ok(q.simulatorKeptUp)} simulator      lag p99 ${r.sim.lagP99Ms.toFixed(1)} ms  max ${r.sim.lagMaxMs.toFixed(1)} ms  ${r.sim.rssMB === null ? "" : `rss ${r.sim.rssMB.toFixed(0)} MB  `}${r.sim.wallS.toFixed(0)} s ${r.scenario.clock === "virtual" ? "virtual" : "wall"}${hoursOf(r.sim.wallS)}
`;
}

/**
 * A modeled CPU figure: to 0.1 % from 1 % up, below that to two significant digits (`0.030`,
 * `0.0021`): a day at a press a minute (0.03 %) and an idle fleet (0.002 %) read `0.0 %`, as if
 * the nodes did nothing.
 */
export function cpuPct(v: number): string {
  return v >= 1 || v === 0 ? v.toFixed(1) : v.toPrecision(2);
}

/** A partial shard merge's: the whole fleet the nodes it covers are part of. */
const fleetOf = (r: Report): string =>
  r.scenario.fleetNodes === undefined ? "" : ` of the fleet's ${r.scenario.fleetNodes} (the shards merged)`;

/**
 * The deliveries that were a follower already holding a newer stamp (protocol §4): timed 0 ms, so
 * where they are many (a chain's head pressing less often than the nodes below it) the median is 0.
 */
function supersededNote(r: Report): string {
  if (r.superseded === 0) return "";
  return `\n       superseded     ${r.superseded} of them: the follower already held a newer state (counted at 0 ms)`;
}

/**
 * The presses the nodes' button interrupts ignored, as a board's sketch does (not in `presses`);
 * nothing when none (a profile without debounce, or no two presses of a node that close).
 */
function debouncedNote(r: Report): string {
  const n = r.pressesIgnored ?? 0;
  if (n === 0) return "";
  return `\n       debounced      ${n} more press${n === 1 ? "" : "es"} ignored, as a board ignores them (not counted above): within sketch.debounceMs of the node's last press, or before setup() has attached the button after power-on`;
}

/**
 * Each time the run's own process did not run (fleet/stall-report.ts): what it saw then was its own
 * stall — a loss of the broker, the presses that came due firing together on resume — not the
 * broker's or the fleet's. `who` names the process: the run, or a shard (a merged report's stall
 * names its shard).
 */
export function stallLines(stalls: readonly StallReport[] | undefined, who = "the run"): string {
  return (stalls ?? [])
    .map((s) => {
      const lost = s.brokerLost ? " (its connection to the broker lost and back)" : "";
      const cut = s.disconnected > 0 ? `; ${s.disconnected} nodes disconnected, ${recovery(s)}` : "";
      const ignored = s.pressesIgnored > 0 ? `, ${s.pressesIgnored} presses ignored as bounces then` : "";
      const name = s.shard === undefined ? who : `shard ${s.shard}`;
      return `\n       stalled        ${name} did not run for ${(s.durationMs / 1000).toFixed(1)} s ${atText(s.atMs)} (its host stopped or paused it): what it saw then is its own stall, not the broker's${lost}${cut}; ${s.pressesDuring} press${s.pressesDuring === 1 ? "" : "es"} made from its start until ${STALL_AFTERMATH_MS / 1000} s after it (those that came due meanwhile fired together when it ran again, as a frozen host's boards would)${ignored}; ${s.lateBeyond5s} pairs later than 5 s`;
    })
    .join("");
}

/** What the last failed connection of a node that never registered was, in the summary's words. */
const FAILURE_WORDS: Record<string, string> = {
  "connack-timeout":
    "connected but had no CONNACK within the socket timeout (a broker at its connection limit, e.g. Mosquitto's max_connections or its open files, or one that has banned the address, closes new connections at once)",
  handshake: "could not open a TCP connection (nothing listening, or unreachable)",
  "connect-too-long":
    "could not log in: their CONNECT (client id, last will, user name, password) is over the profile's PubSubClient buffer (mqtt.maxPacketBytes), so the board's connect() gives up without sending it (a shorter --node-password, prefix or node ids)",
  refused:
    "were refused by the broker (a CONNACK with an error code: credentials, client id or access rules)",
  "bad-connack":
    "had an answer to their CONNECT that is no CONNACK a board can read (not 4 bytes long, over its buffer, with a broken length, or cut short): something other than an MQTT 3.1.1 broker, or a broken one, is at the broker's address; the board's connect() gives up (at once, or 15 s after the last byte of one cut short) and leaves its state() as it was",
  none: "had no failed attempt recorded (connected but never registered with the twins service, or never tried)",
  "no-report":
    'registered, but none of their reports reached the twins service: does the broker let each node write <prefix>/report/<its id>? (Mosquitto acknowledges a publish its ACL denies and drops it; its log says "Denied PUBLISH from tf-n-…")',
};

/** The nodes that never registered, and how each last failed to connect; nothing when all did. */
function notRegisteredLine(r: Report): string {
  const nr = r.registration.notRegistered;
  if (!nr) return "";
  const more = nr.nodes > nr.first.length ? `, … ${nr.nodes - nr.first.length} more` : "";
  return `\n       not registered ${nr.nodes} (${nr.first.join(", ")}${more}): ${notRegisteredWhy(nr)}`;
}

/** How the nodes that never registered last failed to connect, the most common first. */
export function notRegisteredWhy(nr: NonNullable<Report["registration"]["notRegistered"]>): string {
  return Object.entries(nr.lastConnectFailure)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, n]) => `${n} ${FAILURE_WORDS[k] ?? k}`)
    .join("; ");
}

/** What a virtual run ran on, for the summary; nothing on real time. */
function virtualLine(r: Report): string {
  if (r.scenario.clock !== "virtual") return "";
  return r.scenario.twins === "none"
    ? "\n       virtual time   in-memory broker, no twins service: registration read from the broker's traffic"
    : "\n       virtual time   in-memory broker, the run's twins service on the same clock";
}

/** A time of the fault analysis in seconds, or "never" (null: it did not happen by the end). */
function secondsOrNever(v: number | null): string {
  return v === null ? "never" : `${(v / 1000).toFixed(1)} s`;
}

function faultLines(r: Report): string {
  if (r.faults.length === 0) return "";
  const lines = r.faults.map((f) => {
    // A loss step stays: it has no length ("for 0.0 s" read as a fault that did nothing).
    const at = (f.atMs / 1000).toFixed(1);
    const span =
      f.kind === "loss" && f.durationMs === 0
        ? `from ${at} s${hoursOf(f.atMs / 1000)} on`
        : `at ${at} s${hoursOf(f.atMs / 1000)} for ${(f.durationMs / 1000).toFixed(1)} s`;
    const what = `${f.kind}${f.pct !== undefined ? ` ${f.pct}%` : ""} ${span}`;
    if (f.error) return `       fault          ${what}: FAILED: ${f.error}`;
    const frozenAt = frozenAfterWait(f);
    const waited =
      frozenAt === undefined ? "" : `, frozen after ${secondsOrNever(frozenAt)} (it waited for the broker)`;
    const cut = f.cutAfterMs !== undefined ? `${waited}, cut off after ${secondsOrNever(f.cutAfterMs)}` : "";
    return `       fault          ${what}: ${f.nodes} nodes hit, ${f.disconnected} disconnected, ${recovery(f)}; ${f.pressesDuring} presses during, ${f.lateBeyond5s} pairs later than 5 s, ${f.lostForGood} lost for good${cut}`;
  });
  return `\n${lines.join("\n")}`;
}

/**
 * How the fleet came back from a fault or an outage, not counting the nodes another fault held
 * (sim/recovery.ts heldElsewhere): those are counted there, and when that was every node, this one's
 * recovery is not its own to tell.
 */
function recovery(o: Omit<FaultOutcome, "windowEndMs">): string {
  if (o.held !== undefined && o.held >= o.nodes)
    return `every node held by ${(o.heldBy ?? []).join(", ")}: counted there`;
  const nodes = heldNodes(o);
  const held = nodes === undefined ? "" : ` (not counting ${nodes}: counted there)`;
  return `recovered after ${secondsOrNever(o.recoveryMs)}, re-registered max ${secondsOrNever(o.reregisteredMaxMs)}${held}`;
}

/**
 * The broker's outages the twins service saw (or a shard's watch client, or the shards: the merge
 * says which), and the nodes' reports the broker came back without; nothing when there was none.
 */
export function outageLines(outages: readonly BrokerOutageReport[]): string {
  if (outages.length === 0) return "";
  const lines = outages.map((o) => {
    const seen =
      o.shards === undefined ? "" : `, seen by shard${o.shards.length > 1 ? "s" : ""} ${o.shards.join(", ")}`;
    const span = `${atText(o.atMs)}${hoursOf(o.atMs / 1000)} for ${(o.durationMs / 1000).toFixed(1)} s${o.back ? "" : ", not back by the end"}${seen}`;
    const after = o.back ? `${recovery(o)}; ` : "";
    const lost = o.retainedLost ?? 0;
    const put =
      lost === 0
        ? ""
        : `\n       retained lost  ${lost === 1 ? "1 node's report" : `${lost} nodes' reports`} gone from the broker when it came back (restarted without its retained messages, or with an older copy): put back by the twins service`;
    const refused =
      o.refused === undefined
        ? ""
        : `\n       login refused  the broker refused the run's login while it was lost (${o.refused}): the login was revoked or changed there (--auth reloaded?), not a broker that died`;
    return `       broker lost    ${span}: ${o.disconnected} nodes disconnected, ${after}${o.pressesDuring} presses during, ${o.lateBeyond5s} pairs later than 5 s, ${o.lostForGood} lost for good${refused}${put}`;
  });
  return `\n${lines.join("\n")}`;
}

/** The nodes' pairing changed mid-run: when, how many nodes; nothing when it did not. */
export function pairingLine(r: Pick<Report, "pairingChanges">): string {
  const p = r.pairingChanges;
  if (p === undefined) return "";
  const when =
    p.firstAtMs === p.lastAtMs
      ? atText(p.firstAtMs)
      : `from ${timeText(p.firstAtMs)} to ${timeText(p.lastAtMs)}`;
  const nodes = [...new Set(p.list.map((c) => c.node))];
  const named = nodes.slice(0, 5).join(", ") + (p.nodes > 5 ? ` and ${p.nodes - 5} more` : "");
  const end = p.differAtEnd === 1 ? "1 node" : `${p.differAtEnd} nodes`;
  return `\n       re-paired      ${p.nodes === 1 ? "1 node" : `${p.nodes} nodes`} (${named}), ${p.changes} change${p.changes === 1 ? "" : "s"} ${when}; ${end} paired otherwise than the topology at the end: each press judged against the pairing at the nodes when it happened`;
}

/** The boards and stand-ins outside the fleet judged with it; nothing when none. */
function outsideLine(r: Report): string {
  const o = r.outsideNodes;
  if (o === undefined) return "";
  const more = o.nodes > o.ids.length ? ` and ${o.nodes - o.ids.length} more` : "";
  const nodes = o.nodes === 1 ? "1 node" : `${o.nodes} nodes`;
  return `\n       outside        ${nodes} not of this fleet (${o.ids.join(", ")}${more}), judged with it: ${o.presses} press${o.presses === 1 ? "" : "es"} of theirs, ${o.followers} following others; their presses timed from the first sight of their stamps`;
}

/** Nodes whose sessions another client with the same id kept taking over; nothing when none. */
function clashLine(r: Report): string {
  const c = r.sessionClashes;
  if (c === undefined) return "";
  const more = c.nodes > c.ids.length ? ` and ${c.nodes - c.ids.length} more` : "";
  return `\n  FAIL ids in use    ${c.nodes} nodes' sessions taken over by another client with the same id, ${c.closes} times (${c.ids.join(", ")}${more}): another fleet or a board uses these ids, and the figures above mix in its traffic`;
}

/** Nodes whose sessions the broker closed right after their CONNACK, again and again; nothing when none. */
function cutLine(r: Report): string {
  const c = r.sessionsCutAtConnack;
  if (c === undefined) return "";
  const more = c.nodes > c.ids.length ? ` and ${c.nodes - c.ids.length} more` : "";
  return `\n  FAIL closed at once ${c.nodes} nodes' sessions closed by the broker right after it accepted them (CONNACK), before it answered anything, ${c.closes} times (${c.ids.join(", ")}${more}): the broker, or something between, ends them itself (its rules or limits, a fault: see its log); no other client with these ids was seen`;
}
