// A point whose fleet run saw something else going on — another client taking its nodes' sessions
// over (a second sweep on the same broker), another controller, the sweep's process stopped — is
// marked on its line, its summary row, its CSV row and the page. Before, a point kept only its
// figures: two sweeps at once on one broker gave sync p50 606 ms at 5 % loss, read as clean.
import { describe, expect, it } from "vitest";
import { PAPER_CPU } from "../../sweep/cpu.js";
import { disturbedOf } from "../../sweep/disturbed.js";
import { lossCsv } from "../../sweep/files.js";
import { renderHtml } from "../../sweep/html.js";
import type { PointResult } from "../../sweep/point.js";
import { loadScenario } from "../../sweep/scenario.js";
import { LIMITS, type SweepReport } from "../../sweep/sweep.js";
import { progressLine, summary } from "../commands/sweep-run.js";

const pct = { count: 10, p5: 1, p25: 2, p50: 3, p75: 4, p90: 5, p95: 6, p99: 7, max: 8, mean: 3 };
function point(lossPct: number, extra: Partial<PointResult> = {}): PointResult {
  return {
    lossPct,
    echo: pct,
    echoLate: 0,
    sync: pct,
    presses: 10,
    deliveries: 10,
    lost: 0,
    diverged: 0,
    registration: { registered: 4, nodes: 4, p50Ms: 1000, maxMs: 2000 },
    cpuMeanPct: 1,
    cpuMaxPct: 1,
    link: { segments: 0, retransmissions: 0, timeouts: 0, reconnects: 0 },
    sim: { keptUp: true, lagP99Ms: 3, wallS: 15 },
    ...extra,
  };
}

describe("a disturbed point", () => {
  it("is read from the run's report: ids taken over, controllers beside, stalls; nothing when none", () => {
    expect(disturbedOf({})).toBeUndefined();
    expect(disturbedOf({ stalls: [], ownTwins: { beside: [] } })).toBeUndefined();
    expect(
      disturbedOf({
        sessionClashes: { nodes: 20, closes: 869 },
        ownTwins: { beside: [{ clientId: "tf-twins-a" }] },
        joinedTwins: { beside: [{ clientId: "tf-twins-a" }, { clientId: "tf-twins-b" }] },
        stalls: [{ durationMs: 3040 }, { durationMs: 2000 }],
      }),
    ).toEqual({
      idsInUse: { nodes: 20, closes: 869 },
      controllersBeside: ["tf-twins-a", "tf-twins-b"],
      stalledS: 5,
    });
  });

  it("is marked on its line, its summary row, the CSV and the page; a clean one is not", () => {
    const disturbed = disturbedOf({
      sessionClashes: { nodes: 20, closes: 869 },
      ownTwins: { beside: [{ clientId: "tf-twins-7c9abead" }] },
    });
    const clean = point(0);
    const bad = point(5, disturbed ? { disturbed } : {});
    const line = progressLine({
      index: 2,
      total: 2,
      label: "mini: 5% loss",
      elapsedS: 30,
      etaS: 0,
      point: bad,
    });
    expect(line).toContain(
      ", IDS IN USE: 20 nodes' sessions taken over 869 times by another client with their ids (another fleet or sweep on this broker); ANOTHER CONTROLLER beside the twins service (tf-twins-7c9abead) — ",
    );
    expect(
      progressLine({ index: 1, total: 2, label: "mini: 0% loss", elapsedS: 15, etaS: 15, point: clean }),
    ).not.toMatch(/IDS IN USE|DISTURBED/);
    const r: SweepReport = {
      kind: "twinfleet-sweep",
      quick: false,
      startedAt: "",
      wallS: 30,
      limits: LIMITS,
      paperCpu: PAPER_CPU,
      allKeptUp: true,
      scenarios: [{ name: "mini", fleet: loadScenario("paper").fleet, loss: [clean, bad] }],
    };
    const text = summary(r);
    expect(text).toMatch(/ {4}0% .* yes\n/);
    expect(text).toMatch(/ {4}5% .* yes {3}DISTURBED: IDS IN USE \(20 nodes\), ANOTHER CONTROLLER\n/);
    expect(text).toContain("DISTURBED: 1 point mixes in what else went on");
    const csv = lossCsv(r).trim().split("\n");
    expect(csv[0]?.endsWith(",brokerLostS,disturbed")).toBe(true);
    expect(csv[1]?.endsWith(",0,")).toBe(true);
    expect(csv[2]).toContain(",0,IDS IN USE: 20 nodes' sessions taken over 869 times");
    const page = renderHtml(r);
    expect(page).toContain("Some points mix in what else went on");
    expect(page).toContain("— IDS IN USE: 20 nodes' sessions taken over 869 times");
    expect(page).toContain("5% (disturbed)");
  });
});
