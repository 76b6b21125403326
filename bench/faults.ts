/**
 * Fault benchmarks: the paper's guarantees at 1,000 nodes on a broker in its own process, as it is
 * deployed, through each fault (docs/faults.md).
 *   npm run bench -- faults [--nodes 1000] [--duration S] [--only durable,restart,outage,partition,frozen,twins,settings]
 * `--duration S`: seconds of presses of every run (default: each case's own, 10 s for registration,
 * 40 to 150 s for a fault), each fault's start and length scaled by S over its case's own, as
 * `sweep --quick` does (a broker restart at 20 s of 60, down 5 s, is at 5 s of 15, down 1.3 s).
 * `settings` reruns a broker restart and a partition at 200 nodes with the device settings that
 * shorten recovery (docs/faults.md), one change at a time.
 */
import type { FaultEntry } from "../fleet/faults/schedule.js";
import type { ProfileOverrides } from "../fleet/options.js";
import type { Report } from "../fleet/report.js";
import { runFleet } from "../fleet/run.js";
import { scaleSchedule } from "../sweep/fault-schedule.js";
import { durationArg, namesArg, numArg, record } from "./record.js";
import { removeScratch, scratchDir } from "./scratch.js";

interface Case {
  readonly nodes: number;
  readonly overrides?: ProfileOverrides;
  readonly rate: number;
  readonly durationS: number;
  readonly durable: boolean;
  readonly faults: readonly FaultEntry[];
}

/** One fleet run: uno-w5100 rings of 8 against a `twinfleet broker` child process. */
async function run(c: Case): Promise<Report> {
  const dir = c.durable ? scratchDir("tf-bench-broker-") : undefined;
  try {
    return await runFleet({
      nodes: c.nodes,
      profile: "uno-w5100",
      topology: "ring",
      groupSize: 8,
      ratePerNodePerMin: c.rate,
      durationS: c.durationS,
      settleS: 10,
      seed: "faults",
      brokerProcess: true,
      ...(dir !== undefined ? { brokerData: dir } : {}),
      ...(c.faults.length > 0 ? { faults: c.faults, faultsSpec: describe(c.faults) } : {}),
      ...(c.overrides ? { profileOverrides: c.overrides } : {}),
    });
  } finally {
    if (dir !== undefined) removeScratch(dir);
  }
}

/** A case's length and faults at `--duration` (undefined: its own), its faults' times scaled to fit. */
export function fitCase<C extends Pick<Case, "durationS" | "faults">>(
  c: C,
  durationS: number | undefined,
): C {
  if (durationS === undefined || durationS === c.durationS) return c;
  return { ...c, durationS, faults: scaleSchedule(c.faults, durationS / c.durationS) };
}

function describe(faults: readonly FaultEntry[]): string {
  return faults.map((f) => `${f.kind}@${f.atS}`).join(",");
}

function brief(r: Report) {
  return {
    broker: `${r.scenario.brokerKind}${r.scenario.brokerDurable ? " --data" : " in memory"}`,
    presses: r.presses,
    registration: { maxMs: r.registration.maxMs, registered: r.registration.registered },
    sync: r.sync,
    syncOutsideFaults: r.syncOutsideFaults ?? null,
    lost: r.lost,
    lostOutsideFaults: r.lostOutsideFaults,
    late: r.late,
    lostForGood: r.lostForGood,
    regressions: r.regressions,
    regressionList: r.regressionList,
    diverged: r.diverged,
    faults: r.faults,
    twinsView: r.twinsView,
    brokerRssMaxMB: r.sim.brokerRssMaxMB,
    keptUp: r.sim.keptUp,
    lagP99Ms: r.sim.lagP99Ms,
    settleS: r.sim.settleS,
    requirements: r.requirements,
  };
}

function say(name: string, r: Report): void {
  const f = r.faults.map(
    (x) =>
      `${x.kind}: recovery ${x.recoveryMs ?? "never"} ms, re-registered max ${x.reregisteredMaxMs ?? "never"} ms, offline detected max ${x.offlineDetectedMaxMs ?? "-"} ms, late ${x.lateBeyond5s}, lost for good ${x.lostForGood}`,
  );
  console.error(
    `${name}: registration max ${r.registration.maxMs} ms (${r.registration.registered}/${r.scenario.nodes}), sync p99 ${r.sync.p99Ms} ms (outside faults ${r.syncOutsideFaults?.p99Ms ?? "-"} ms), lost for good ${r.lostForGood}, regressions ${r.regressions}, diverged ${r.diverged}, kept up ${r.sim.keptUp}${f.length > 0 ? `\n  ${f.join("\n  ")}` : ""}`,
  );
}

/** The cases a run without `--only` runs; `settings` runs only when named. */
const DEFAULT_CASES = ["durable", "restart", "outage", "partition", "frozen", "twins"] as const;

export async function faults(argv: string[]): Promise<void> {
  const nodes = numArg(argv, "--nodes", 1000);
  const durationS = durationArg(argv);
  const only = new Set(namesArg(argv, "--only", DEFAULT_CASES.join(","), [...DEFAULT_CASES, "settings"]));
  const out: Record<string, unknown> = { nodes, ...(durationS !== undefined ? { durationS } : {}) };
  const go = async (name: string, given: Case) => {
    const c = fitCase(given, durationS);
    console.error(
      `faults: ${name} (${c.durationS} s${c.faults.length > 0 ? `, ${describe(c.faults)}` : ""}) …`,
    );
    const r = await run(c);
    say(name, r);
    out[name] = brief(r);
    return r;
  };
  if (only.has("durable")) {
    // Registration on the durable broker against the in-memory one, in the same run.
    const mem = await go("registrationInMemory", {
      nodes,
      rate: 1,
      durationS: 10,
      durable: false,
      faults: [],
    });
    const dur = await go("registrationDurable", { nodes, rate: 1, durationS: 10, durable: true, faults: [] });
    out.registrationRatio = dur.registration.maxMs / Math.max(1, mem.registration.maxMs);
  }
  if (only.has("restart")) {
    const f: FaultEntry[] = [{ kind: "broker-restart", atS: 20, downS: 5 }];
    await go("brokerRestartDurable", { nodes, rate: 6, durationS: 60, durable: true, faults: f });
    await go("brokerRestartInMemory", { nodes, rate: 6, durationS: 60, durable: false, faults: f });
  }
  if (only.has("outage")) {
    const f: FaultEntry[] = [{ kind: "power-outage", atS: 20, offS: 2, nodes: "all" }];
    await go("powerOutage", { nodes, rate: 6, durationS: 60, durable: true, faults: f });
  }
  if (only.has("partition")) {
    const f: FaultEntry[] = [{ kind: "partition", atS: 20, forS: 60, nodes: "10%" }];
    await go("partition", { nodes, rate: 6, durationS: 100, durable: true, faults: f });
  }
  if (only.has("frozen")) {
    // The same fleet with and without a frozen subscriber to everything, side by side. A frozen
    // client's unread bytes fill the kernel's socket buffers first (some 4 MB on loopback: ~100 s of
    // this fleet's traffic), and only then the broker's own queue: freeze it long enough to get there.
    const without = await go("frozenBaseline", {
      nodes,
      rate: 6,
      durationS: 150,
      durable: false,
      faults: [],
    });
    const f: FaultEntry[] = [{ kind: "frozen-client", atS: 5, forS: 140 }];
    const withIt = await go("frozenClient", { nodes, rate: 6, durationS: 150, durable: false, faults: f });
    out.frozenP99Ratio = withIt.sync.p99Ms / Math.max(0.001, without.sync.p99Ms);
    out.frozenBrokerRssDeltaMB = (withIt.sim.brokerRssMaxMB ?? 0) - (without.sim.brokerRssMaxMB ?? 0);
  }
  if (only.has("twins")) {
    const f: FaultEntry[] = [{ kind: "twins-restart", atS: 20, downS: 2 }];
    await go("twinsRestart", { nodes, rate: 6, durationS: 40, durable: true, faults: f });
  }
  if (only.has("settings")) {
    // One setting at a time against the Uno's defaults, on a fleet small enough to run many times.
    const variants: [string, ProfileOverrides | undefined][] = [
      ["defaults", undefined],
      ["reconnect 2 s", { sketch: { reconnectPeriodMs: 2000 } }],
      ["reconnect 1 s", { sketch: { reconnectPeriodMs: 1000 } }],
      ["sync grace 500 ms", { sketch: { syncGraceMs: 500 } }],
      ["keepalive 5 s", { mqtt: { keepaliveS: 5 } }],
      ["W5100 RCR 3", { w5100: { rcr: 3 } }],
    ];
    const rows: unknown[] = [];
    for (const [name, overrides] of variants) {
      for (const [what, f, length] of [
        ["broker restart in memory", { kind: "broker-restart", atS: 10, downS: 5 }, 40],
        ["partition 10 % for 60 s", { kind: "partition", atS: 10, forS: 60, nodes: "10%" }, 90],
      ] as const) {
        console.error(`faults: settings ${name}: ${what} …`);
        const r = await run(
          fitCase(
            {
              nodes: 200,
              rate: 6,
              durationS: length,
              durable: false,
              faults: [f],
              ...(overrides ? { overrides } : {}),
            },
            durationS,
          ),
        );
        say(`${name}: ${what}`, r);
        const x = r.faults[0];
        rows.push({
          setting: name,
          fault: what,
          recoveryMs: x?.recoveryMs ?? null,
          reregisteredMaxMs: x?.reregisteredMaxMs ?? null,
          offlineDetectedMaxMs: x?.offlineDetectedMaxMs ?? null,
          lateBeyond5s: x?.lateBeyond5s ?? null,
          lostForGood: r.lostForGood,
          syncOutsideP99Ms: r.syncOutsideFaults?.p99Ms ?? null,
          cpuMeanPct: r.cpu.meanPct,
        });
      }
    }
    out.settings = rows;
  }
  record("faults", out);
}
