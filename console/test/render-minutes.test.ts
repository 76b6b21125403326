/**
 * The convergence chart's long range (`m`): the twins service's minutes at their lowest share, the
 * broker's outage and the service's restart as bands, under the line that answers the morning
 * question; a fleet whose minutes cannot be had says why in the chart's place.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MinutePoint } from "../../twins/index.js";
import { NO_TWINS_SERVICE } from "../../view/minutes-feed.js";
import type { ConsoleHandle } from "../app.js";
import { ASCII } from "../render/glyphs.js";
import { renderMinutes } from "../render/minutes.js";
import { consoleIn, FakeSource, settle, virtualTerminal } from "./helpers.js";

const plain = (s: string) => s.replace(/\{[^}]*\}/g, "");
const at = (h: number, m: number) => Date.UTC(2026, 11, 7, h, m);

/** 04:50 to 05:02: a partition's dip, the broker away 04:55–04:56, the service not running at 05:00. */
function night(): MinutePoint[] {
  const out: MinutePoint[] = [];
  for (let m = 50; m < 63; m++) {
    const t = at(4 + Math.floor(m / 60), m % 60);
    if (m === 55) out.push({ t, fraction: 0.27, inSync: 27, known: 100, online: 100, away: true });
    else if (m === 56) out.push({ t, fraction: 10 / 73, inSync: 10, known: 73, online: 0, away: true });
    else if (m === 60) out.push({ t, online: 0, down: true });
    else out.push({ t, fraction: 0.9, inSync: 90, known: 100, online: 100 });
  }
  return out;
}

describe("the convergence chart's last 48 h", () => {
  it("draws each minute's low with the broker's and the service's bands under the morning's answer", () => {
    const minutes = night();
    const lines = renderMinutes({ kind: "minutes", minutes, t: at(5, 2) + 30_000 }, 45, 12, ASCII).map(plain);
    expect(lines.slice(0, 3).join(" ")).toBe(
      "lowest 13.7 % (10 of 73) at 04:56 UTC; broker away in 2 min; twins service not running in 1 min",
    );
    // 13 minutes over 40 columns: 04:55 is columns 15.4–18.5, 04:56 18.5–21.5, 05:00 30.8–33.8.
    const chart = lines.slice(3, -2).map((l) => l.slice(5));
    expect(chart).toHaveLength(12 - 3 - 2);
    const top = chart[0] ?? "";
    expect(top.slice(16, 21)).toBe("/////"); // away: the band above the low bar
    expect(top.slice(31, 33)).toBe("//"); // not running: no share, the band all the way down
    expect(chart.at(-1)?.slice(31, 33)).toBe("//");
    expect(top.slice(0, 14)).not.toContain("/");
    // The axis starts below the lowest share (13.7 %: 10 %), and the 90 % minutes reach near the top.
    expect(lines[lines.length - 3]?.startsWith(" 10%")).toBe(true);
    // The band's own row under the bars: every minute away or down, whatever its share.
    expect(lines.at(-2)).toBe(
      `${" ".repeat(5 + 15)}${"/".repeat(7)}${" ".repeat(8)}${"/".repeat(4)}${" ".repeat(6)}`,
    );
    expect(chart.at(-1)?.slice(19, 21)).toMatch(/[^ /]{2}/);
    expect(lines.at(-1)).toBe("     -13 min  / broker away, twins down   now");
  });

  it("draws a minute at 0 % (nothing in sync) at its lowest step, apart from a minute with nothing judged", () => {
    const minutes: MinutePoint[] = [
      { t: at(7, 27), fraction: 0, inSync: 0, known: 20, online: 20 },
      { t: at(7, 28), online: 0 },
      { t: at(7, 29), fraction: 1, inSync: 20, known: 20, online: 20 },
    ];
    const lines = renderMinutes({ kind: "minutes", minutes, t: at(7, 30) }, 25, 6, ASCII).map(plain);
    expect(lines[0]).toBe("lowest 0.0 % (0 of 20) at");
    // 10 minutes at least (07:20 to 07:30) over 20 columns: 07:27 is columns 14–15, 07:28 16–17.
    const bottom = lines.at(-2)?.slice(5) ?? "";
    expect(bottom).toBe(`${" ".repeat(14)}..  ##`);
  });

  // It said `lowest 0.0 % (0 of 2) at 10:11 UTC` and drew the scale from 0 % under a fleet in sync.
  it("leaves a minute in which nodes joined out of the lowest and the scale, drawn as nothing judged", () => {
    const minutes: MinutePoint[] = [
      { t: at(10, 11), fraction: 0, inSync: 0, known: 2, online: 2, joining: true },
      { t: at(10, 12), fraction: 16 / 19, inSync: 16, known: 19, online: 19 },
      { t: at(10, 13), fraction: 1, inSync: 20, known: 20, online: 20 },
    ];
    const lines = renderMinutes({ kind: "minutes", minutes, t: at(10, 14) }, 45, 6, ASCII).map(plain);
    expect(lines[0]).toBe("lowest 84.2 % (16 of 19) at 10:12 UTC");
    expect(lines.at(-2)?.startsWith(" 80%")).toBe(true);
    // 10 minutes over 40 columns: 10:11 is columns 24–27, nothing drawn there.
    expect(lines.slice(1, -1).map((l) => l.slice(5 + 24, 5 + 28))).toEqual(["    ", "    ", "    ", "    "]);
    const first = renderMinutes(
      { kind: "minutes", minutes: minutes.slice(0, 1), t: at(10, 11) + 30_000 },
      45,
      6,
      ASCII,
    );
    expect(plain(first[0] ?? "")).toBe("nothing judged yet: nodes joining");
  });

  it("says what it cannot show in the chart's place, wrapped to the box", () => {
    const lines = renderMinutes({ kind: "none", why: NO_TWINS_SERVICE }, 30, 8, ASCII).map(plain);
    expect(lines.join(" ")).toBe(NO_TWINS_SERVICE);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(30);
  });

  it("says nothing was judged before the first share", () => {
    const lines = renderMinutes(
      { kind: "minutes", minutes: [{ t: at(5, 0), online: 0 }], t: at(5, 0) + 5000 },
      40,
      8,
      ASCII,
    ).map(plain);
    expect(lines[0]).toBe("nothing judged yet");
    expect(lines.at(-1)?.startsWith("     -10 min")).toBe(true);
  });
});

describe("the last 48 h where there is little room", () => {
  /** Ten minutes in sync, the broker away through 07:25 and the service down at 07:27, both at 100 %. */
  const full: MinutePoint[] = Array.from({ length: 10 }, (_, i) => ({
    t: at(7, 20 + i),
    fraction: 1,
    inSync: 20,
    known: 20,
    online: 20,
    ...(i === 5 ? { away: true as const } : {}),
    ...(i === 7 ? { down: true as const } : {}),
  }));

  it("draws a minute away or down whose share stayed 100 % in the band's own row under the bars", () => {
    const lines = renderMinutes({ kind: "minutes", minutes: full, t: at(7, 30) }, 25, 8, ASCII).map(plain);
    expect(lines[0]).toBe("lowest 100.0 % (20 of 20)");
    // 10 minutes over 20 columns: 07:25 is columns 10-11, 07:27 14-15; the bars fill every column.
    expect(lines.at(-3)?.slice(5)).toBe("#".repeat(20));
    expect(lines.at(-2)).toBe(`${" ".repeat(15)}//  //    `);
    // The bands' shortest legend, where `not measured` does not fit (it said nothing before).
    expect(lines.at(-1)).toBe("     -10 min / outage now");
  });

  it("keeps the answer whole in a small box: a shorter form, never a part cut in two", () => {
    const m = { kind: "minutes" as const, minutes: night(), t: at(5, 2) + 30_000 };
    const sunny = { ...m, minutes: night().map(({ away, down, ...rest }) => rest) };
    // 60×15: a 22×3 box (the words one row); 40×12: a 14×1 box (the words alone).
    expect(renderMinutes(sunny, 22, 3, ASCII).map(plain)[0]).toBe("lowest 13.7 % at 04:56");
    expect(renderMinutes(sunny, 19, 3, ASCII).map(plain)[0]).toBe("low 13.7 % at 04:56");
    expect(renderMinutes(sunny, 14, 1, ASCII).map(plain)).toEqual(["lowest 13.7 %"]);
    // The minutes away and down are kept before the share's long form (`(10 of 73) … UTC`).
    expect(renderMinutes(m, 45, 4, ASCII).map(plain)[0]).toBe("low 13.7 % at 04:56; away 2 min; down 1 min");
  });

  // They took the share's forms alone (`lowest 13.7 % at 04:56`, `lowest 13.7 %`): the outage was
  // neither counted nor drawn (no room for the band's row or its legend).
  it("counts the minutes away and down in a 60×15 and a 40×12 terminal's one row of words", () => {
    const m = { kind: "minutes" as const, minutes: night(), t: at(5, 2) + 30_000 };
    expect(renderMinutes(m, 22, 3, ASCII).map(plain)[0]).toBe("low 13.7 %; out 3 min");
    expect(renderMinutes(m, 14, 1, ASCII).map(plain)).toEqual(["13.7 %; out 3m"]);
    // The broker away alone: its own short form, where it fits beside the share's.
    const away = { ...m, minutes: night().map(({ down, ...rest }) => rest) };
    expect(renderMinutes(away, 22, 3, ASCII).map(plain)[0]).toBe("low 13.7 %; away 2 min");
    expect(renderMinutes(away, 14, 1, ASCII).map(plain)).toEqual(["13.7 %; out 2m"]);
  });
});

describe("the last 48 h not read again", () => {
  const fresh = { kind: "minutes" as const, minutes: night(), t: at(5, 2) + 30_000 };
  const stale = {
    ...fresh,
    stale: "cannot reach the twins service at http://127.0.0.1:9: connection refused",
  };
  /** The chart's rows: those with the axis's mark after the share's label. */
  const chartRows = (lines: string[]) => lines.filter((l) => /^.{4}\|/.test(l)).length;

  it("keeps the minutes read, says since when in one row above them, and ends the axis at the read", () => {
    const lines = renderMinutes(stale, 45, 14, ASCII);
    expect(lines[0]).toBe("{yellow-fg}stale since 05:02: no answer{/yellow-fg}");
    expect(lines.slice(1, 3).map(plain).join(" ")).toBe(
      "lowest 13.7 % at 04:56; broker away in 2 min; twins service not running in 1 min",
    );
    expect(chartRows(lines.map(plain))).toBe(chartRows(renderMinutes(fresh, 45, 14, ASCII).map(plain)));
    expect(plain(lines.at(-1) ?? "")).toBe("     -13 min / broker away, twins down  05:02");
  });

  // A 100×30 terminal's box (32×8): the words took three rows and the answer two, the chart one, and
  // the axis ending `05:02` left no room for the bands' legend.
  it("keeps the chart as many rows as fresh and the bands' legend in a 100×30 terminal's box", () => {
    const was = renderMinutes(fresh, 32, 8, ASCII).map(plain);
    const lines = renderMinutes(stale, 32, 8, ASCII).map(plain);
    expect(lines[0]).toBe("stale since 05:02: no answer");
    expect(chartRows(lines)).toBeGreaterThanOrEqual(chartRows(was));
    expect(was.at(-1)).toBe("     -13 min / not measured  now");
    expect(lines.at(-1)).toBe("     -13 min   / outage    05:02");
    expect(renderMinutes(stale, 30, 9, ASCII).map(plain).at(-1)).toBe("     -13 min  / outage   05:02");
  });

  it("says the read's time at least, in a narrow box before the answer", () => {
    expect(renderMinutes(stale, 30, 6, ASCII).map(plain).slice(0, 3)).toEqual([
      "stale since 05:02: no answer",
      "lowest 13.7 % at 04:56; away 2",
      "min; down 1 min",
    ]);
    const refused = { ...fresh, stale: "the twins service at http://127.0.0.1:9 answered 500" };
    expect(renderMinutes(refused, 30, 6, ASCII).map(plain)[0]).toBe("not read since 05:02:30 UTC");
    expect(renderMinutes(stale, 22, 1, ASCII).map(plain)).toEqual(["stale since 05:02"]);
    expect(renderMinutes(stale, 10, 1, ASCII).map(plain)).toEqual(["read 05:02"]);
  });
});

describe("the console's m key", () => {
  const open: ConsoleHandle[] = [];
  afterEach(() => {
    for (const h of open.splice(0)) h.close();
  });

  /** The console on `source` in an 80×24 terminal, and a way to type into it and draw the frame after. */
  function opened(source: FakeSource, cols = 80, rows = 24) {
    const term = virtualTerminal(cols, rows);
    const { handle } = consoleIn(source, open, term);
    const type = async (keys: string) => {
      term.input.write(keys);
      await settle();
      handle.frame();
      return handle.text().join("\n");
    };
    /** The convergence box's inner text (the right-hand pane from column 49), its rows joined by a space. */
    const chartArea = () =>
      handle
        .text()
        .slice(2, 10)
        .map((r) => r.slice(49, 79).trimEnd())
        .join(" ");
    handle.frame();
    return { handle, type, chartArea };
  }

  it("switches the chart to the source's minutes and back, and names the key in help and footer", async () => {
    const source = Object.assign(new FakeSource(20), { minutes: () => night(), clock: at(5, 2) });
    const { handle, type, chartArea } = opened(source);
    expect(handle.text().at(-1)).toContain("m:48h");
    expect(handle.text().join("\n")).not.toContain("last 48 h");
    const shown = await type("m");
    expect(shown).toContain(" convergence, last 48 h ");
    // 30 columns and 3 rows for words: every part whole, the share's in a shorter form.
    expect(chartArea()).toContain(
      "lowest 13.7 % at 04:56; broker away in 2 min; twins service not running in 1 min 100%",
    );
    const back = await type("m");
    expect(back).not.toContain("last 48 h");
    expect(back).toContain("in sync");
    expect(await type("?")).toContain("convergence chart: last minutes / last 48 h");
  });

  it("keeps the title and the answer whole in a 60×15 and a 40×12 terminal", async () => {
    for (const [cols, rows, right, answer] of [
      [60, 15, 36, "low 13.7 %; out 3 min"],
      [40, 12, 24, "13.7 %; out 3m"],
    ] as const) {
      const source = Object.assign(new FakeSource(20), { minutes: () => night(), clock: at(5, 2) });
      const { handle, type } = opened(source, cols, rows);
      await type("m");
      const pane = handle.text().map((r) => r.slice(right));
      // `convergence, last ` was all the title said; `lowest 13.7 % (10 of` all the answer, and
      // then `lowest 13.7 % at 04:56` (the minutes away and down left out).
      expect(pane[1], `${cols}×${rows}`).toContain(" last 48 h ");
      expect(pane[2]?.slice(1, -1).trimEnd(), `${cols}×${rows}`).toBe(answer);
      handle.close();
    }
  });

  it("says in the chart's place that a fleet without a twins service keeps no minutes", async () => {
    const { type, chartArea } = opened(new FakeSource(20));
    expect(await type("m")).toContain(" convergence, last 48 h ");
    expect(chartArea()).toContain(NO_TWINS_SERVICE);
  });
});
