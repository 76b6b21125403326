/**
 * The sweep's plot page: one self-contained HTML file with inline SVG — latency box plots per loss
 * level with the 1 s line (Fig. 7), lost bars (Fig. 8), registration against the 30 s line, the CPU
 * table beside the paper's figures, the settings table, the fault cases' tables (html-faults.ts),
 * and the simulator's health per point. No scripts, fonts or files from elsewhere: it opens offline
 * and renders the same everywhere.
 */
import type { CpuRow } from "./cpu.js";
import { disturbedWords } from "./disturbed.js";
import { faultsSection } from "./html-faults.js";
import { esc, fmtMs } from "./html-format.js";
import type { Percentiles, PointResult } from "./point.js";
import type { ScenarioResult, SettingsPoint, SweepReport } from "./sweep.js";

const W = 1080;
const ECHO = "#2f6db5";
const SYNC = "#e07b24";
const LIMIT = "#c62828";

/** A log10 axis over [lo, hi] (ms), mapped to [y0 (bottom), y1 (top)]. */
function logAxis(lo: number, hi: number, y0: number, y1: number): (v: number) => number {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return (v: number) => y0 - ((Math.log10(Math.min(hi, Math.max(lo, v))) - a) / (b - a)) * (y0 - y1);
}

function logRange(values: readonly number[]): [number, number] {
  const pos = values.filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...pos, 1))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...pos, 2000)));
  return [lo, hi];
}

function logTicks(lo: number, hi: number, y: (v: number) => number, x0: number, x1: number): string {
  let out = "";
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    out += `<line x1="${x0}" x2="${x1}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`;
    out += `<text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${fmtMs(v)}</text>`;
  }
  return out;
}

function limitLine(yv: number, x0: number, x1: number, label: string): string {
  return `<line x1="${x0}" x2="${x1}" y1="${yv}" y2="${yv}" stroke="${LIMIT}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="${x1 - 4}" y="${yv - 5}" text-anchor="end" font-size="12" fill="${LIMIT}">${esc(label)}</text>`;
}

/** A box: p25–p75, median, whiskers p5–p95, a dot at p99 and a cross at max. */
function box(
  x: number,
  w: number,
  p: Percentiles,
  y: (v: number) => number,
  color: string,
  title: string,
): string {
  if (p.count === 0) return `<text x="${x}" y="${y(1)}" font-size="10" text-anchor="middle">no data</text>`;
  const cx = x;
  const tip = `<title>${esc(title)}: n=${p.count} p5 ${fmtMs(p.p5)} p25 ${fmtMs(p.p25)} p50 ${fmtMs(p.p50)} p75 ${fmtMs(p.p75)} p95 ${fmtMs(p.p95)} p99 ${fmtMs(p.p99)} max ${fmtMs(p.max)}</title>`;
  return `<g>${tip}
<line x1="${cx}" x2="${cx}" y1="${y(p.p5)}" y2="${y(p.p95)}" stroke="${color}"/>
<line x1="${cx - w / 4}" x2="${cx + w / 4}" y1="${y(p.p5)}" y2="${y(p.p5)}" stroke="${color}"/>
<line x1="${cx - w / 4}" x2="${cx + w / 4}" y1="${y(p.p95)}" y2="${y(p.p95)}" stroke="${color}"/>
<rect x="${cx - w / 2}" y="${y(p.p75)}" width="${w}" height="${Math.max(1, y(p.p25) - y(p.p75))}" fill="${color}" fill-opacity="0.25" stroke="${color}"/>
<line x1="${cx - w / 2}" x2="${cx + w / 2}" y1="${y(p.p50)}" y2="${y(p.p50)}" stroke="${color}" stroke-width="2.5"/>
<circle cx="${cx}" cy="${y(p.p99)}" r="3.5" fill="${color}"/>
<text x="${cx}" y="${y(p.max) + 4}" text-anchor="middle" font-size="12" fill="${color}">×</text>
<text x="${cx + w / 2 + 3}" y="${y(p.p99) + 4}" font-size="10" fill="${color}">${fmtMs(p.p99)}</text>
</g>`;
}

function legend(items: readonly [string, string][], x: number, y: number): string {
  return items
    .map(
      ([color, label], i) =>
        `<rect x="${x + i * 300}" y="${y - 10}" width="14" height="12" fill="${color}" fill-opacity="0.5" stroke="${color}"/><text x="${x + i * 300 + 20}" y="${y}" font-size="12">${esc(label)}</text>`,
    )
    .join("");
}

function fig7(points: readonly PointResult[]): string {
  const H = 420;
  const [x0, x1, yb, yt] = [80, W - 30, H - 50, 40];
  const [lo, hi] = logRange(points.flatMap((p) => [p.echo.p5, p.echo.max, p.sync.p5, p.sync.max]));
  const y = logAxis(lo, hi, yb, yt);
  const slot = (x1 - x0) / Math.max(1, points.length);
  let g = logTicks(lo, hi, y, x0, x1);
  points.forEach((p, i) => {
    const cx = x0 + slot * (i + 0.5);
    g += box(cx - slot * 0.18, slot * 0.26, p.echo, y, ECHO, `echo at ${p.lossPct}% loss`);
    g += box(cx + slot * 0.18, slot * 0.26, p.sync, y, SYNC, `sync at ${p.lossPct}% loss`);
    const flag = `${p.sim.keptUp ? "" : " (sim lagged)"}${p.brokerLost ? " (broker lost)" : ""}${p.disturbed ? " (disturbed)" : ""}`;
    g += `<text x="${cx}" y="${yb + 20}" text-anchor="middle" font-size="13">${p.lossPct}%${flag}</text>`;
  });
  g += limitLine(y(1000), x0, x1, "1 s requirement");
  g += `<text x="${(x0 + x1) / 2}" y="${H - 8}" text-anchor="middle" font-size="13">packet loss (each direction)</text>`;
  g += legend(
    [
      [ECHO, "paper's method: own report, publish → echo"],
      [SYNC, "fleet sync: press → every follower's LED"],
    ],
    x0,
    22,
  );
  g += `<text x="${x1}" y="22" text-anchor="end" font-size="11">box p25–p75, bar median, whiskers p5–p95, dot p99, × max</text>`;
  return svg(H, g);
}

function fig8(points: readonly PointResult[]): string {
  const H = 300;
  const [x0, x1, yb, yt] = [80, W - 30, H - 50, 40];
  const top = Math.max(1, ...points.map((p) => Math.max(p.lost, p.echoLate)));
  const y = (v: number) => yb - (v / top) * (yb - yt);
  const slot = (x1 - x0) / Math.max(1, points.length);
  let g = "";
  for (const t of [0, top / 2, top]) {
    g += `<line x1="${x0}" x2="${x1}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${x0 - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${Math.round(t)}</text>`;
  }
  points.forEach((p, i) => {
    const cx = x0 + slot * (i + 0.5);
    const bw = slot * 0.3;
    const pairs = p.deliveries + p.lost;
    g += `<rect x="${cx - bw - 2}" y="${y(p.echoLate)}" width="${bw}" height="${yb - y(p.echoLate)}" fill="${ECHO}"/>`;
    g += `<text x="${cx - bw / 2 - 2}" y="${y(p.echoLate) - 4}" text-anchor="middle" font-size="12">${p.echoLate}</text>`;
    g += `<rect x="${cx + 2}" y="${y(p.lost)}" width="${bw}" height="${yb - y(p.lost)}" fill="${SYNC}"/>`;
    g += `<text x="${cx + bw / 2 + 2}" y="${y(p.lost) - 4}" text-anchor="middle" font-size="12">${p.lost}</text>`;
    g += `<text x="${cx}" y="${yb + 18}" text-anchor="middle" font-size="13">${p.lossPct}%</text>`;
    g += `<text x="${cx}" y="${yb + 32}" text-anchor="middle" font-size="10" fill="#666">of ${p.echo.count} echoes / ${pairs} pairs</text>`;
  });
  g += `<line x1="${x0}" x2="${x1}" y1="${yb}" y2="${yb}" stroke="#333"/>`;
  g += legend(
    [
      [ECHO, "own reports echoed after more than 5 s"],
      [SYNC, "(press, follower) pairs not reflected within 5 s"],
    ],
    x0,
    22,
  );
  return svg(H, g);
}

function registrationFig(points: readonly PointResult[], limitMs: number): string {
  const H = 300;
  const [x0, x1, yb, yt] = [80, W - 30, H - 45, 35];
  const top = Math.max(limitMs * 1.15, ...points.map((p) => p.registration.maxMs * 1.1));
  const y = (v: number) => yb - (v / top) * (yb - yt);
  const slot = (x1 - x0) / Math.max(1, points.length);
  let g = "";
  for (let t = 0; t <= top; t += 10_000) {
    g += `<line x1="${x0}" x2="${x1}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${x0 - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${t / 1000} s</text>`;
  }
  points.forEach((p, i) => {
    const cx = x0 + slot * (i + 0.5);
    const r = p.registration;
    g += `<rect x="${cx - 14}" y="${y(r.maxMs)}" width="28" height="${Math.max(1, yb - y(r.maxMs))}" fill="#7e57c2" fill-opacity="0.35" stroke="#7e57c2"/>`;
    g += `<line x1="${cx - 14}" x2="${cx + 14}" y1="${y(r.p50Ms)}" y2="${y(r.p50Ms)}" stroke="#4527a0" stroke-width="3"/>`;
    g += `<text x="${cx + 18}" y="${y(r.maxMs) + 4}" font-size="11">${(r.maxMs / 1000).toFixed(1)} s</text>`;
    g += `<text x="${cx}" y="${yb + 18}" text-anchor="middle" font-size="13">${p.lossPct}%</text>`;
    g += `<text x="${cx}" y="${yb + 32}" text-anchor="middle" font-size="10" fill="#666">${r.registered}/${r.nodes} registered</text>`;
  });
  g += limitLine(y(limitMs), x0, x1, `${limitMs / 1000} s requirement`);
  g += legend(
    [["#7e57c2", "slowest node (bar), median (line): power-on → registered with its state"]],
    x0,
    20,
  );
  return svg(H, g);
}

function settingsFig(points: readonly SettingsPoint[], losses: readonly number[]): string {
  const variants = [...new Set(points.map((p) => p.variant))];
  const H = 360;
  const [x0, x1, yb, yt] = [80, W - 30, H - 70, 40];
  const [lo, hi] = logRange(points.map((p) => Math.max(p.sync.p99, 0.1)));
  const y = logAxis(lo, hi, yb, yt);
  const slot = (x1 - x0) / Math.max(1, variants.length);
  const colors = ["#90caf9", "#1e88e5", "#0d47a1", "#283593", "#4a148c", "#880e4f"];
  let g = logTicks(lo, hi, y, x0, x1);
  variants.forEach((v, i) => {
    const cx = x0 + slot * (i + 0.5);
    const bw = (slot * 0.8) / losses.length;
    losses.forEach((l, j) => {
      const p = points.find((q) => q.variant === v && q.lossPct === l);
      if (!p) return;
      const bx = cx - (slot * 0.8) / 2 + j * bw;
      const fill = colors[j % colors.length] as string;
      g += `<rect x="${bx}" y="${y(p.sync.p99)}" width="${bw - 2}" height="${Math.max(1, yb - y(p.sync.p99))}" fill="${fill}"${p.meetsGoal ? "" : ` stroke="${LIMIT}" stroke-width="2"`}><title>${esc(`${v} at ${l}%: sync p99 ${fmtMs(p.sync.p99)}, lost ${p.lost}`)}</title></rect>`;
      if (p.lost > 0)
        g += `<text x="${bx + bw / 2}" y="${y(p.sync.p99) - 3}" text-anchor="middle" font-size="9" fill="${LIMIT}">${p.lost}✗</text>`;
    });
    g += `<text x="${cx}" y="${yb + 16}" text-anchor="middle" font-size="11">${esc(v)}</text>`;
  });
  g += limitLine(y(1000), x0, x1, "1 s");
  g += legend(
    losses.map((l, j) => [colors[j % colors.length] as string, `sync p99 at ${l}% loss`] as [string, string]),
    x0,
    22,
  );
  g += `<text x="${x0}" y="${H - 30}" font-size="11">red outline: misses the goal (p99 ≥ 1 s, or something lost); n✗: lost pairs</text>`;
  return svg(H, g);
}

function svg(h: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">${body}</svg>`;
}

function cpuTable(rows: readonly CpuRow[]): string {
  const tr = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.case)}</td><td>${r.lossPct}%</td><td class="n">${r.utilizationPct.toFixed(2)} %</td><td class="n">${r.withPollingPct.toFixed(1)} %</td><td class="n paper">${r.paperPct === null ? "—" : `${r.paperPct} %`}</td><td class="n">${r.presses || r.notifications}</td><td class="n">${r.packetsIn}/${r.packetsOut}</td><td class="n">${((r.blockedCycles / Math.max(1, r.elapsedCycles)) * 100).toFixed(2)} %</td></tr>`,
    )
    .join("");
  return `<table><tr><th>use case</th><th>loss</th><th>model: busy<br>(work + blocked)</th><th>model: with idle polls</th><th>paper</th><th>presses or commands</th><th>packets in/out</th><th>of which blocked</th></tr>${tr}</table>`;
}

function settingsTable(points: readonly SettingsPoint[], losses: readonly number[]): string {
  const variants = [...new Set(points.map((p) => p.variant))];
  const head = losses.map((l) => `<th>${l}% loss<br>sync p99 · echo p99 · lost</th>`).join("");
  const top = losses.at(-1);
  const body = variants
    .map((v) => {
      const ps = losses.map((l) => points.find((p) => p.variant === v && p.lossPct === l));
      const first = ps.find((p) => p !== undefined);
      const worst = points.find((p) => p.variant === v && p.lossPct === top);
      const cells = ps
        .map((p) =>
          p
            ? `<td class="${p.meetsGoal ? "ok" : "bad"}">${fmtMs(p.sync.p99)} · ${fmtMs(p.echo.p99)} · ${p.lost + p.echoLate}</td>`
            : "<td>—</td>",
        )
        .join("");
      const all = ps.every((p) => p?.meetsGoal === true);
      const cost = worst
        ? `${worst.link.retransmissions} retx · ${worst.link.timeouts} timeouts · ${worst.link.reconnects} reconnects · CPU ${worst.cpuMeanPct.toFixed(2)} %`
        : "";
      return `<tr><td><b>${esc(v)}</b><br><span class="how">${esc(first?.how ?? "")}</span></td>${cells}<td class="${all ? "ok" : "bad"}">${all ? "yes" : "no"}</td><td class="how">${cost}</td></tr>`;
    })
    .join("");
  return `<table><tr><th>setting</th>${head}<th>meets the goal at every level</th><th>cost at ${top}% loss (fleet totals, CPU mean per node)</th></tr>${body}</table>`;
}

/** `virtual`: the points ran on virtual time, their lengths in virtual seconds, not wall time. */
function healthTable(s: ScenarioResult, virtual: boolean): string {
  const pts: [string, PointResult][] = [
    ...(s.loss ?? []).map((p): [string, PointResult] => [`${p.lossPct}% loss`, p]),
    ...(s.settings?.points ?? []).map((p): [string, PointResult] => [`${p.variant} at ${p.lossPct}%`, p]),
    ...(s.faults?.cases ?? []).map((p): [string, PointResult] => [`fault case ${p.name}`, p]),
  ];
  const rows = pts
    .map(
      ([label, p]) =>
        `<tr><td>${esc(label)}${p.brokerLost ? ` <span class="bad">— broker lost ${p.brokerLost.s.toFixed(1)} s</span>` : ""}${p.disturbed ? ` <span class="bad">— ${esc(disturbedWords(p.disturbed))}</span>` : ""}</td><td class="${p.sim.keptUp ? "ok" : "bad"}">${p.sim.keptUp ? "yes" : "no"}</td><td class="n">${p.sim.lagP99Ms.toFixed(1)} ms</td><td class="n">${p.sim.wallS.toFixed(1)} s</td><td class="n">${p.presses}</td><td class="n">${p.echo.count}</td><td class="n">${p.deliveries + p.lost}</td><td class="n">${p.diverged}</td></tr>`,
    )
    .join("");
  return `<table><tr><th>point</th><th>sim kept up</th><th>event-loop lag p99</th><th>${virtual ? "virtual time" : "wall"}</th><th>presses</th><th>echoes</th><th>pairs</th><th>diverged</th></tr>${rows}</table>`;
}

function scenarioSection(s: ScenarioResult, r: SweepReport): string {
  const f = s.fleet;
  let out = `<h2>Scenario “${esc(s.name)}”</h2><p class="how">${f.nodes} simulated ${esc(f.profile)} nodes, ${esc(f.topology)} groups of ${f.groupSize}, ${f.ratePerNodePerMin} presses per node per minute for ${f.seconds} s per point (then 5 s without presses under the same loss), seed “${esc(f.seed)}”.</p>`;
  if (s.loss && s.loss.length > 0) {
    out += `<h3>Fig. 7 — latency vs packet loss</h3>${fig7(s.loss)}
<p>Blue is what the paper measured: a node subscribed to its own report topic times its report from the publish to reading the echo (node → broker → node). Orange is what a user sees: from the button interrupt until every follower's LED shows it (node → broker → follower, plus re-reports along chains). The red line is the 1 s requirement.</p>
<h3>Fig. 8 — lost messages vs packet loss</h3>${fig8(s.loss)}
<p>A message is lost when it takes more than 5 s (the paper's definition). TCP delivers everything eventually; what is “lost” here is late.</p>
<h3>Registration time vs packet loss</h3>${registrationFig(s.loss, r.limits.registrationMs)}`;
  }
  if (s.cpu) {
    const c = s.cpu.params;
    out += `<h3>CPU utilization — the model beside the paper</h3>${cpuTable(s.cpu.rows)}
<p class="how">Normal press: ${c.normalPressPerMin} presses per minute; spam press: ${c.spamPressPerSec} per second; spammed notifications: ${c.spamNotificationsPerSec} set commands per second from a plain MQTT client. Each case: the measured node paired both ways with a second node (pressing normally), ${c.minutes} modeled minutes in fake time on the in-memory broker.</p>
<p><b>Busy</b> counts cycles doing work plus cycles busy-waiting on the W5100 (a full TX buffer, connect); <b>with idle polls</b> also counts every empty <code>loop()</code> — what a tool that samples “is the sketch running” would report on a sketch without <code>delay()</code>, near 100 % whatever the load. The paper's 26–41 % lies between the two: its tool is not described, so neither column is its method. The differences between rows, not the absolute level, are what the model can speak to: loss costs the Uno no CPU by itself (the W5100 retransmits in hardware) until the TX buffer fills and <code>write()</code> waits — spam presses under loss block the loop.</p>`;
  }
  if (s.settings && s.settings.points.length > 0) {
    out += `<h3>Beyond the paper — device settings that keep sync under 1 s at ${s.settings.lossPct.join(", ")} % loss</h3>
${settingsFig(s.settings.points, s.settings.lossPct)}${settingsTable(s.settings.points, s.settings.lossPct)}`;
  }
  if (s.faults && s.faults.cases.length > 0) out += faultsSection(s.fleet, s.faults, r.limits);
  out += `<h3>Simulator health per point</h3>${healthTable(s, r.plan?.clock === "virtual")}`;
  return out;
}

/** The runs a resumed sweep was made of: its wall time is theirs added up, its kept points ran earlier. */
function resumedWords(r: SweepReport): string {
  if (!r.resumed?.length) return "";
  const runs = r.resumed.map(
    (x) => `resumed ${esc(x.at)} with ${x.kept} point${x.kept === 1 ? "" : "s"} kept`,
  );
  return ` over ${r.resumed.length + 1} runs (${runs.join(", ")}: a kept point ran in an earlier run, under that run's load)`;
}

export function renderHtml(r: SweepReport): string {
  const virtual = r.plan?.clock === "virtual";
  const warn = virtual
    ? `<p class="ok">On virtual time (<code>--clock virtual</code>): every fleet point ran in memory on one fake clock, as fast as the CPU allowed, so its timings are the model's alone, without the host's delays (no event-loop lag), and each point's length is in virtual seconds. A wall-clock sweep of the same scenarios differs from it by the host's share (docs/sweep.md, “On virtual time”).</p>`
    : r.allKeptUp
      ? `<p class="ok">Every fleet point kept up (event-loop lag p99 under 50 ms): the timings are the model's, not the host's.</p>`
      : `<p class="bad">Some points did not keep up (see the health tables): their timings include the host's delays.</p>`;
  const lost = r.scenarios.some((s) =>
    [...(s.loss ?? []), ...(s.settings?.points ?? [])].some((p) => p.brokerLost !== undefined),
  )
    ? `\n<p class="bad">The broker was lost during some points (marked in the health tables): their figures include the outage.</p>`
    : "";
  const disturbed = r.scenarios.some((s) =>
    [...(s.loss ?? []), ...(s.settings?.points ?? []), ...(s.faults?.cases ?? [])].some((p) => p.disturbed),
  )
    ? `\n<p class="bad">Some points mix in what else went on — another client with the nodes' ids, another controller, the sweep's process stopped (marked in the health tables): their figures are not the fleet's alone.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>twinfleet sweep</title>
<style>
body{font-family:sans-serif;max-width:${W + 40}px;margin:16px auto;color:#222;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #333;margin-top:28px}h3{font-size:16px;margin:22px 0 6px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}td.paper{background:#fff8e1}
.ok{color:#1b5e20}.bad{color:${LIMIT}}td.ok{background:#e8f5e9}td.bad{background:#ffebee}.how{color:#555;font-size:12px}
</style></head><body>
<h1>twinfleet sweep${r.quick ? " (quick)" : ""}</h1>${cutShortLine(r)}
<p class="how">${esc(r.startedAt)} · ${r.wallS.toFixed(0)} s wall${resumedWords(r)}${virtual ? " · virtual time" : ""} · scenarios ${r.scenarios.map((s) => esc(s.name)).join(", ")}${r.broker !== undefined ? ` · broker ${esc(r.broker)}` : ""}</p>
${warn}${lost}${disturbed}
${r.scenarios.map((s) => scenarioSection(s, r)).join("\n")}
</body></html>
`;
}

/** The page's line on a sweep that did not run every point; nothing for a whole sweep. */
function cutShortLine(r: SweepReport): string {
  const cut = r.cutShort;
  if (!cut) return "";
  if (cut.inProgress)
    return `\n<p class="bad">In progress: ${cut.done} of ${cut.of} points run so far; the tables hold those only. The files are written after each point: if the sweep runs no more, it was killed, and <code>twinfleet sweep --resume</code> with the same flags runs the rest.</p>`;
  return `\n<p class="bad">${cut.failed ? `Stopped: point ${esc(cut.failed.point)} failed: ${esc(cut.failed.error)}. ` : ""}Cut short${cut.signal ? ` (${esc(cut.signal)})` : ""}: ${cut.done} of ${cut.of} points run; the tables hold those only.</p>`;
}
