/**
 * The convergence chart's bands: where it has no share to draw (no follower online, the broker away),
 * a band with its legend instead of the last share held on.
 */
import { describe, expect, it } from "vitest";
import { renderConvergence } from "../render/charts.js";
import { ASCII } from "../render/glyphs.js";

const plain = (s: string) => s.replace(/\{[^}]*\}/g, "");

describe("the convergence chart's bands", () => {
  it("draws no bar where no follower was online, but a band with its legend (it plotted the last-heard 100 %)", () => {
    // 20 s judged at 80 % then 100 %, then the fleet killed: 20 s of points with none online, last heard 100 %.
    const history = [];
    for (let t = 0; t <= 40_000; t += 1000)
      history.push({ t, fraction: t < 10_000 ? 0.8 : 1, known: 4, online: t < 20_000 ? 4 : 0 });
    const c = { fraction: 1, inSync: 4, known: 4, online: 0, history };
    // 40 columns of chart over 40 s: one a second.
    const lines = renderConvergence(c, 40_000, 45, 6, ASCII, 40_000).map(plain);
    const chart = lines.slice(1, -1).map((l) => l.slice(5));
    for (const row of chart) {
      expect(row.slice(0, 20)).not.toContain("/");
      expect(row.slice(20)).toBe("/".repeat(20));
    }
    // The judged stretch still draws its bars, to the top where it was 100 %.
    expect(chart[0]?.slice(10, 20)).toBe("#".repeat(10));
    expect(lines.at(-1)).toBe("     -40s      / no follower online       now");
    // Heard again: the band stops where the first follower is back, and the legend stays while it is in the window.
    const back = [...history, { t: 40_500, fraction: 1, known: 4, online: 1 }];
    const after = renderConvergence({ ...c, online: 1, history: back }, 40_500, 45, 6, ASCII, 40_000).map(
      plain,
    );
    expect(after[1]?.slice(5).trimEnd().endsWith("#")).toBe(true);
    expect(after.at(-1)).toContain("/ no follower online");
    // None such in the window: no legend.
    const judged = history.map((p) => ({ ...p, online: 4 }));
    expect(
      renderConvergence({ ...c, online: 4, history: judged }, 40_000, 45, 6, ASCII, 40_000)
        .map(plain)
        .at(-1),
    ).toBe("     -40s                                 now");
  });

  it("names a band where every follower was unheard (a broker restart) apart from one with none online", () => {
    // 20 s judged, then the broker restarted: every follower unheard from 20 s (it read `no follower online`).
    const history = [
      { t: 0, fraction: 1, known: 4, online: 4 },
      { t: 20_000, fraction: 1, known: 4, online: 0, unheard: 4 },
    ];
    const c = { fraction: 1, inSync: 4, known: 4, online: 0, unheard: 4, history };
    const lines = renderConvergence(c, 40_000, 45, 6, ASCII, 40_000).map(plain);
    for (const row of lines.slice(1, -1).map((l) => l.slice(5))) expect(row.slice(20)).toBe("/".repeat(20));
    expect(lines.at(-1)).toBe("     -40s       / followers unheard       now");
    // Then the sim killed while some were still unheard: both kinds in the window.
    const both = [...history, { t: 30_000, fraction: 1, known: 4, online: 0 }];
    expect(
      renderConvergence({ ...c, history: both }, 40_000, 60, 6, ASCII, 40_000)
        .map(plain)
        .at(-1),
    ).toContain("/ no follower online or heard");
  });

  it("draws no bar through a broker outage, but the band with its legend (it drew the share before it to now)", () => {
    // In sync since t = 0 (the feed adds a point only on a change), the broker away from 10 s to 30 s.
    const c = {
      fraction: 1,
      inSync: 4,
      known: 4,
      online: 4,
      history: [{ t: 0, fraction: 1, known: 4, online: 4 }],
      away: [{ from: 10_000, to: 30_000 }],
    };
    // 40 columns of chart over 40 s: one a second.
    const lines = renderConvergence(c, 40_000, 45, 6, ASCII, 40_000).map(plain);
    const chart = lines.slice(1, -1).map((l) => l.slice(5));
    for (const row of chart) {
      expect(row.slice(0, 10)).toBe("#".repeat(10));
      expect(row.slice(10, 31)).toBe("/".repeat(21));
      // Back: the share from before holds on (no change since) until a new point.
      expect(row.slice(31)).toBe("#".repeat(9));
    }
    expect(lines.at(-1)).toBe("     -40s          / broker away          now");
    // Under way: the band runs to now.
    const now = renderConvergence({ ...c, away: [{ from: 10_000 }] }, 40_000, 45, 6, ASCII, 40_000).map(
      plain,
    );
    expect(now[1]?.slice(5)).toBe(`${"#".repeat(10)}${"/".repeat(30)}`);
    // With a stretch of no follower online too, the legend names both.
    const both = {
      ...c,
      history: [...c.history, { t: 32_000, fraction: 1, known: 4, online: 0 }],
    };
    expect(renderConvergence(both, 40_000, 60, 6, ASCII, 40_000).map(plain).at(-1)).toContain(
      "/ broker away, no follower online",
    );
    // An outage gone out of the window: no band, no legend.
    const old = renderConvergence(
      { ...c, away: [{ from: -30_000, to: -20_000 }] },
      40_000,
      45,
      6,
      ASCII,
      40_000,
    );
    expect(old.map(plain).at(-1)).toBe("     -40s                                 now");
  });

  it("draws no bar where the twins service was not running, but a band with its legend (a restart's marker)", () => {
    // In sync from 0; the service's last record at 10 s, started again at 30 s (its kept history).
    const history = [
      { t: 0, fraction: 1, known: 4, online: 4 },
      { t: 10_000, fraction: 1, known: 4, online: 4, stoppedUntil: 30_000 },
      { t: 30_000, fraction: 1, known: 4, online: 4 },
    ];
    const c = { fraction: 1, inSync: 4, known: 4, online: 4, history };
    const lines = renderConvergence(c, 40_000, 45, 6, ASCII, 40_000).map(plain);
    for (const row of lines.slice(1, -1).map((l) => l.slice(5))) {
      expect(row.slice(0, 10)).toBe("#".repeat(10));
      expect(row.slice(10, 30)).toBe("/".repeat(20));
      expect(row.slice(30)).toBe("#".repeat(10));
    }
    expect(lines.at(-1)).toContain("/ twins service not running");
  });
});
