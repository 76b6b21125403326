/**
 * The "Faults" section of the sweep's page: an overview of the fault cases against the paper's
 * requirement, then a table per case — each fault's recovery, re-registration, presses during it,
 * pairs later than 5 s and lost for good — and the run's figures outside the fault windows
 * (sync p99, lost, regressions, diverged), each marked pass or fail.
 */
import { type FaultReport, frozenAfterWait, heldNodes } from "../fleet/report.js";
import type { FaultCaseResult } from "./fault-cases.js";
import { esc, fmtMs } from "./html-format.js";
import type { Scenario } from "./scenario.js";
import type { LIMITS } from "./sweep.js";

const KIND_NAMES: Readonly<Record<string, string>> = {
  "broker-restart": "broker restart",
  "power-outage": "power outage",
  partition: "partition",
  loss: "loss",
  "twins-restart": "twins restart",
  "frozen-client": "frozen client",
};

const ms = (v: number | null, none: string) => (v === null ? none : fmtMs(v));
const cls = (ok: boolean) => (ok ? "ok" : "bad");
const verdict = (ok: boolean) => `<td class="${cls(ok)}">${ok ? "pass" : "fail"}</td>`;

/** The fault cell: its kind, and what else its row has to say (a frozen client's cut and wait, nodes counted elsewhere, a failure). */
export function faultLabel(f: FaultReport): string {
  let out = esc(KIND_NAMES[f.kind] ?? f.kind);
  if (f.pct !== undefined) out += ` ${f.pct}%`;
  if (f.cutAfterMs !== undefined) {
    out += `<br><span class="how">${f.cutAfterMs === null ? "not cut off by the broker" : `cut off by the broker after ${fmtMs(f.cutAfterMs)}`}</span>`;
  }
  const waited = frozenAfterWait(f);
  if (waited !== undefined) {
    out += `<br><span class="how">frozen after ${fmtMs(waited)} (it waited for the broker)</span>`;
  }
  const held = heldNodes(f);
  if (held !== undefined) out += `<br><span class="how">not counting ${esc(held)}: counted there</span>`;
  if (f.error !== undefined) out += `<br><span class="bad">not carried out: ${esc(f.error)}</span>`;
  return out;
}

function faultRow(f: FaultReport): string {
  const n = (v: number | string) => `<td class="n">${v}</td>`;
  return `<tr><td>${faultLabel(f)}</td>${n(fmtMs(f.atMs))}${n(fmtMs(f.durationMs))}${n(f.nodes)}${n(f.disconnected)}<td class="n ${cls(f.recoveryMs !== null)}">${ms(f.recoveryMs, "not recovered")}</td>${n(f.disconnected === 0 && f.reregisteredMaxMs === 0 ? "—" : ms(f.reregisteredMaxMs, "not all"))}${n(ms(f.offlineDetectedMaxMs, "—"))}${n(f.pressesDuring)}${n(f.lateBeyond5s)}<td class="n ${cls(f.lostForGood === 0)}">${f.lostForGood}</td></tr>`;
}

function caseTables(c: FaultCaseResult, limits: typeof LIMITS): string {
  const broker = `${c.broker.kind === "process" ? "the broker in its own process (killed with SIGKILL)" : "the broker in the run's process"}, its store ${c.broker.durable ? "on disk (LevelDB), kept across the restart" : "in memory"}`;
  const faults = c.faults.map(faultRow).join("");
  const o = c.syncOutsideFaults;
  const lost = c.lostForGood + c.lostOutsideFaults;
  const req = c.requirements;
  return `<h4>${esc(c.name)}</h4>
<p class="how">${c.described.map(esc).join("; ")} — ${broker}; ${c.presses} presses, ${c.sim.wallS.toFixed(0)} s wall${c.sim.keptUp ? "" : ', <span class="bad">the simulator did not keep up</span>'}.</p>
<table><tr><th>fault</th><th>at</th><th>lasted</th><th>nodes hit</th><th>disconnected</th><th>recovery</th><th>re-registration max</th><th>offline detected</th><th>presses during</th><th>later than 5 s</th><th>lost for good</th></tr>${faults}</table>
<table><tr><th>sync p99 outside the fault windows</th><th>lost (for good, or over 5 s outside the windows)</th><th>regressions</th><th>diverged</th><th>faults carried out</th><th>requirement: sync &lt; ${limits.syncMs / 1000} s, 0 lost</th></tr>
<tr><td class="n ${cls(req.syncP99Under1s)}">${fmtMs(o.p99Ms)} <span class="how">(${o.count} pairs)</span></td><td class="n ${cls(req.nothingLost)}">${lost} <span class="how">(${c.lostForGood} for good, ${c.lostOutsideFaults} outside)</span></td><td class="n ${cls(req.noRegressions)}">${c.regressions}</td><td class="n ${cls(req.nothingDiverged)}">${c.diverged}</td><td class="${cls(req.faultsCarriedOut)}">${req.faultsCarriedOut ? "yes" : "no"}</td>${verdict(c.meetsGoal)}</tr></table>${regressions(c)}`;
}

function regressions(c: FaultCaseResult): string {
  if (c.regressionList.length === 0) return "";
  const items = c.regressionList
    .map((g) => `${esc(g.node)} at ${fmtMs(g.atMs)} went from ${esc(g.held)} back to ${esc(g.now)}`)
    .join("; ");
  const more =
    c.regressions > c.regressionList.length ? `; and ${c.regressions - c.regressionList.length} more` : "";
  return `<p class="how bad">Regressions: ${items}${more}.</p>`;
}

function overview(cases: readonly FaultCaseResult[]): string {
  const rows = cases
    .map((c) => {
      const rec = c.faults.map((f) => f.recoveryMs);
      const worst = rec.includes(null) ? null : Math.max(0, ...rec.map((v) => v ?? 0));
      const during = c.faults.reduce((a, f) => a + f.lateBeyond5s, 0);
      return `<tr><td>${esc(c.name)}</td><td class="n ${cls(worst !== null)}">${ms(worst, "not recovered")}</td><td class="n">${during}</td><td class="n ${cls(c.lostForGood === 0)}">${c.lostForGood}</td><td class="n ${cls(c.requirements.syncP99Under1s)}">${fmtMs(c.syncOutsideFaults.p99Ms)}</td><td class="n ${cls(c.regressions === 0)}">${c.regressions}</td><td class="n ${cls(c.diverged === 0)}">${c.diverged}</td>${verdict(c.meetsGoal)}</tr>`;
    })
    .join("");
  return `<table><tr><th>case</th><th>slowest recovery</th><th>later than 5 s in the fault windows</th><th>lost for good</th><th>sync p99 outside the windows</th><th>regressions</th><th>diverged</th><th>meets the requirement</th></tr>${rows}</table>`;
}

export function faultsSection(
  fleet: Scenario["fleet"],
  faults: { readonly lossPct: number; readonly cases: readonly FaultCaseResult[] },
  limits: typeof LIMITS,
): string {
  return `<h3>Faults — recovery, and what the fleet lost</h3>
<p class="how">Each case is one fleet run of the ${fleet.nodes} nodes above at ${faults.lossPct}% loss with the case's faults; times count from the start of the presses (${fleet.seconds} s), and the run settles until every fault has ended and the fleet is back.</p>
${overview(faults.cases)}
${faults.cases.map((c) => caseTables(c, limits)).join("\n")}
<p><b>Recovery</b>: from the fault's end until every node it hit was back — registered again with the twins service, with its state, if it had lost its connection — and every press it held up beyond 1 s had reached its followers. <b>Re-registration max</b>: the slowest node the fault disconnected to register again, after the fault's end. <b>Offline detected</b>: how long the twins service took to show a node the fault hit as offline. <b>Presses during</b>: presses from the fault's start to its recovery; of their (press, follower) pairs, <b>later than 5 s</b> arrived late (the paper's “lost” by its timing) and <b>lost for good</b> never arrived. Outside the fault windows the paper's requirement holds as it does without faults: sync p99 under ${limits.syncMs / 1000} s and nothing later than ${limits.lostAfterMs / 1000} s, with nothing lost for good anywhere, no node going back to an older state (<b>regressions</b>) and none <b>diverged</b> from its pairing at the end (docs/metrics.md).</p>`;
}
