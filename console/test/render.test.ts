/**
 * The pure renderers and the option boundary: the grid's zoom and click mapping, the 1 s mark in
 * the latency histogram, the header's fault indicator, the key table behind the keys and the help,
 * and option errors that name the field.
 */
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { NO_CAPABILITIES, type NodeDetail } from "../../view/source.js";
import { KEY_TABLE, keyBindings } from "../keys.js";
import { resolveOptions } from "../options.js";
import { PAPER_LIMIT_MS, renderConvergence, renderLatency } from "../render/charts.js";
import { renderDetail } from "../render/detail.js";
import { gridLayout, indexAt, renderGrid } from "../render/fleet-grid.js";
import { renderFooter } from "../render/footer.js";
import { ASCII } from "../render/glyphs.js";
import { faultFlag, flagText, type HeaderFacts, renderHeader } from "../render/header.js";
import { renderHelp } from "../render/help.js";
import { renderLog, wrap } from "../render/log.js";
import { ALL_CAPS, FakeSource } from "./helpers.js";

const plain = (s: string) => s.replace(/\{[^}]*\}/g, "");

describe("renderers", () => {
  it("zoomed out, one cell stands for a block of nodes, and a click finds the block's first node", () => {
    const nodes = new FakeSource(10_000).nodes();
    const layout = gridLayout(nodes.length, 46, 14, "fit");
    expect(layout).toEqual({ perCell: 16, perPage: 16 * 46 * 14, pages: 1 });
    const r = renderGrid(nodes, 46, 14, "fit", 0, ASCII);
    expect(r.lines).toHaveLength(14);
    expect(plain(r.lines[0] ?? "")).toMatch(/^[.:+*#]{46}$/);
    expect(indexAt(nodes.length, 46, layout, 0, 3, 1)).toBe((46 + 3) * 16);
    expect(indexAt(nodes.length, 46, layout, 0, 46, 0)).toBeUndefined();
  });

  it("marks the paper's 1 s in the latency histogram's axis and counts what is under it", () => {
    const buckets = new Array(40).fill(0);
    buckets[2] = 99;
    buckets[30] = 1;
    const lines = renderLatency(
      { count: 100, p50Ms: 120, p99Ms: 1500, bucketMs: 50, buckets, overflow: 0 },
      30,
      8,
      ASCII,
    ).map(plain);
    expect(lines[1]).toContain("<1s 99.0%");
    const axis = lines.at(-1) ?? "";
    const mark = Math.round(PAPER_LIMIT_MS / (2000 / 30));
    expect(axis.indexOf("1s")).toBe(mark);
    expect(lines[2]?.[mark]).toBe("|");
  });

  it("leaves a chart's figure out whole when its box is narrow, never cut (`n 4000` read `n 40`)", () => {
    const buckets = new Array(60).fill(0);
    buckets[1] = 4000;
    const l = { count: 4000, p50Ms: 57, p99Ms: 1990, bucketMs: 50, buckets, overflow: 0 };
    expect(plain(renderLatency(l, 30, 8, ASCII)[0] ?? "")).toBe("p50 57ms  p99 1.99s  n 4000");
    // A 68-column terminal: the box has 25 columns inside.
    expect(plain(renderLatency(l, 25, 8, ASCII)[0] ?? "")).toBe("p50 57ms  p99 1.99s");
    // The narrowest console (40 columns): 14.
    expect(plain(renderLatency(l, 14, 8, ASCII)[0] ?? "")).toBe("p50 57ms");
    const c = { fraction: 0.997, inSync: 1994, known: 2000, history: [] };
    expect(plain(renderConvergence(c, 0, 25, 8, ASCII)[0] ?? "")).toBe("in sync 99.7% 1994/2000");
    // It read `in sync 99.7% 1994/20`, 1994 of 20.
    expect(plain(renderConvergence(c, 0, 21, 8, ASCII)[0] ?? "")).toBe("in sync 99.7%");
  });

  it("says no follower is known yet, in the header and the charts, rather than 100 % in sync of 0", () => {
    const facts: HeaderFacts = {
      total: 30,
      real: 0,
      on: 0,
      online: 0,
      fraction: 1,
      known: 0,
      lossPct: 0,
      title: "sim",
    };
    expect(plain(renderHeader(facts, undefined, 200))).toBe(
      " 30 nodes  on 0  in sync: no follower known yet  offline 30  loss 0% | sim",
    );
    const boot = { fraction: 1, inSync: 0, known: 0, history: [{ t: 1000, fraction: 1, known: 0 }] };
    const conv = renderConvergence(boot, 2000, 40, 8, ASCII).map(plain);
    expect(conv[0]).toBe("in sync: no follower known yet");
    expect(conv.join("\n")).not.toContain("#");
    const later = { ...boot, inSync: 3, known: 4, fraction: 0.75 };
    const drawn = renderConvergence(
      { ...later, history: [...boot.history, { t: 1500, fraction: 0.75, known: 4 }] },
      2000,
      40,
      8,
      ASCII,
    );
    expect(plain(drawn[0] ?? "")).toBe("in sync 75.0% 3/4");
    const none = { count: 0, p50Ms: 0, p99Ms: 0, bucketMs: 50, buckets: new Array(40).fill(0), overflow: 0 };
    const lat = renderLatency(none, 30, 8, ASCII).map(plain);
    expect(lat[0]).toBe("no sync measured yet");
    expect(lat[1]).toContain("<1s -");
    expect(lat.join("\n")).not.toContain("100.0%");
  });

  it("holds the share from before the window on through it: a quiet fleet's chart is not empty", () => {
    // The twins add a point when a status moves: a fleet quiet for 5 minutes has none in the last 60 s.
    const quiet = {
      fraction: 0.75,
      inSync: 6,
      known: 8,
      online: 8,
      history: [
        { t: 0, fraction: 1, known: 8, online: 8 },
        { t: 10_000, fraction: 0.75, known: 8, online: 8 },
      ],
    };
    const rows = renderConvergence(quiet, 300_000, 40, 8, ASCII).map(plain);
    const bars = rows.slice(1, -1).map((r) => r.slice(5));
    // Every column holds 75 % (on the axis from 70 %): a bar in the bottom row of each, none at the top.
    expect(bars.at(-1)).toMatch(/^[^ ]{35}$/);
    expect(bars[0]).toMatch(/^ {35}$/);
    expect(rows.at(-2)?.slice(0, 4)).toBe(" 70%");
  });

  it("says no follower is online to judge, rather than the last-heard 100 % of a fleet all offline", () => {
    const facts: HeaderFacts = {
      total: 100,
      real: 0,
      on: 0,
      online: 0,
      fraction: 1,
      known: 100,
      judged: 0,
      lossPct: undefined,
      title: "mqtt://x",
    };
    expect(plain(renderHeader(facts, undefined, 200))).toBe(
      " 100 nodes  on 0  in sync: no follower online to judge  offline 100 | mqtt://x",
    );
    expect(plain(renderHeader({ ...facts, judged: 3 }, undefined, 200))).toContain("in sync 100.0%");
    // Online only by a restarted broker's kept status: neither online nor offline.
    expect(plain(renderHeader({ ...facts, unheard: 60 }, undefined, 200))).toBe(
      " 100 nodes  on 0  in sync: no follower online to judge  offline 40  unheard 60 | mqtt://x",
    );
    const c = {
      fraction: 1,
      inSync: 100,
      known: 100,
      online: 0,
      history: [{ t: 1000, fraction: 1, known: 100 }],
    };
    expect(plain(renderConvergence(c, 2000, 60, 8, ASCII)[0] ?? "")).toBe(
      "in sync: no follower online to judge last heard 100/100",
    );
    // Every known follower not heard since the broker restarted: not heard yet, not offline.
    expect(plain(renderHeader({ ...facts, unheard: 100, judgedUnheard: 100 }, undefined, 200))).toBe(
      " 100 nodes  on 0  in sync: no follower heard yet to judge  offline 0  unheard 100 | mqtt://x",
    );
    expect(plain(renderHeader({ ...facts, unheard: 60, judgedUnheard: 60 }, undefined, 200))).toContain(
      "in sync: no follower online to judge",
    );
    expect(plain(renderConvergence({ ...c, unheard: 100 }, 2000, 60, 8, ASCII)[0] ?? "")).toBe(
      "in sync: no follower heard yet to judge last heard 100/100",
    );
  });

  it("marks an offline node with a set or a pairing kept for it apart from the other offline nodes", () => {
    const node = (id: string, waits?: "set") => ({
      id: NodeId(id),
      kind: "sim" as const,
      on: false,
      online: false,
      sync: "unknown" as const,
      ...(waits ? { waits } : {}),
    });
    const { lines } = renderGrid([node("n-1"), node("n-2", "set")], 2, 1, "node", 0, ASCII);
    expect(lines[0]).toBe("{gray-fg}{inverse}x{/inverse}{/gray-fg}{yellow-fg}!{/yellow-fg}");
  });

  it("puts a red fault indicator with its seconds first in the header, and cuts the rest to fit", () => {
    const facts: HeaderFacts = {
      total: 24,
      real: 0,
      on: 12,
      online: 24,
      fraction: 1,
      known: 12,
      lossPct: 0,
      title: "sim 24 ideal nodes",
    };
    expect(faultFlag([], 5000)).toBeUndefined();
    expect(renderHeader(facts, undefined, 200)).toBe(
      " 24 nodes  on 12  in sync 100.0%  offline 0  loss 0% | sim 24 ideal nodes",
    );
    const flag = faultFlag(
      [
        { what: "broker-restart", since: 1000 },
        { what: "power-outage 24 nodes", since: 2500 },
      ],
      4999,
    );
    expect(flagText(flag)).toBe(" FAULT broker-restart 3 s +1 ");
    const line = renderHeader(facts, flag, 50);
    expect(line.startsWith("{red-bg}{white-fg}{bold} FAULT broker-restart 3 s +1 {/bold}")).toBe(true);
    // Whole counts give way, never half of one (it was cut to `on 12  in `).
    expect(plain(line)).toBe(" FAULT broker-restart 3 s +1  24 nodes  on 12");
    // Narrower than the indicator: the indicator alone, still red; a clock behind the start reads 0 s.
    expect(renderHeader(facts, faultFlag([{ what: "loss 25%", since: 9000 }], 8000), 10)).toBe(
      "{red-bg}{white-fg}{bold} FAULT los{/bold}{/white-fg}{/red-bg}",
    );
    // Braces in what a source says are text, not tags.
    const braces = renderHeader({ ...facts, title: "{x}" }, faultFlag([{ what: "{y}", since: 0 }], 0), 200);
    expect(braces).toContain(" FAULT {open}y{close} 0 s ");
    expect(braces.endsWith("| {open}x{close}")).toBe(true);
  });

  it("shortens a long fault's description, not the counts: no figure cut in two, the seconds kept", () => {
    const facts: HeaderFacts = {
      total: 2000,
      real: 0,
      on: 1107,
      online: 2000,
      fraction: 1,
      known: 2000,
      lossPct: undefined,
      title: "mqtt://127.0.0.1:1883 prefix tf",
    };
    const others = "another twins service controls this fleet too (tf-twins-32e4032f, tf-twins-4dc68e90)";
    const flag = faultFlag([{ what: others, since: 0 }], 12_000);
    // 80 columns: it read ` FAULT another twins service controls this fleet too (tf-twins-32e4032f, tf-twin`.
    expect(plain(renderHeader(facts, flag, 80))).toBe(
      " FAULT another twins servi~ 12 s  2000 nodes  on 1107  in sync 100.0%  offline 0",
    );
    // 120: the node count read `20`, and the title went first.
    const wide = plain(renderHeader(facts, faultFlag([{ what: others.slice(0, 69), since: 0 }], 0), 120));
    expect(wide).toBe(
      " FAULT another twins service controls this fleet too (tf-twins-32e4~ 0 s  2000 nodes  on 1107  in sync 100.0%  offline 0",
    );
    // The narrowest console (40): the indicator, shortened, with its seconds, and the node count whole.
    expect(plain(renderHeader(facts, flag, 40))).toBe(" FAULT another twins s~ 12 s  2000 nodes");
    // A title too long for what is left is cut with `~`, not inside a figure unmarked.
    const demo = { ...facts, title: "demo 400 nodes, rings of 8" };
    expect(plain(renderHeader(demo, undefined, 70))).toBe(
      " 2000 nodes  on 1107  in sync 100.0%  offline 0 | demo 400 nodes, rin~",
    );
  });

  it("has one table for the keys and the help: every key bound once, every row in the help", () => {
    const bound = keyBindings();
    for (const k of ["B", "O", "L", "+", "-", "left", "h", "enter", "space", "q", "C-c", "?", "f1"]) {
      expect(bound.has(k), k).toBe(true);
    }
    expect(() => keyBindings([...KEY_TABLE, { label: "O", what: "again", on: { O: () => {} } }])).toThrow(
      'key O is bound twice (again in "O")',
    );
    const help = renderHelp({ ...NO_CAPABILITIES, restartBroker: true });
    expect(help).toHaveLength(KEY_TABLE.length + 4);
    expect(help.slice(-2).join(" ")).toBe(
      "Convergence chart: a gray band (░, or / in ASCII) where no follower was online or the broker was away: the share there is the last-heard one.",
    );
    expect(help).toContain("B            restart the broker, down 5 s (asks y/n)");
    expect(help).toContain(
      "{gray-fg}O            cut every node's power for 2 s (asks y/n) (not for this fleet){/gray-fg}",
    );
  });

  it("writes the footer's hints from the key table, leaving out what the fleet cannot do", () => {
    expect(renderFooter({}, ALL_CAPS)).toBe(
      " ?:help q:quit arrows:move Enter:detail z:zoom f:filter m:48h p:press +/-:loss",
    );
    expect(renderFooter({}, NO_CAPABILITIES)).toBe(
      " ?:help q:quit arrows:move Enter:detail z:zoom f:filter m:48h",
    );
    const extra = [
      ...KEY_TABLE,
      { label: "w", what: "wave", hint: "w:wave", needs: "press" as const, on: {} },
    ];
    expect(renderFooter({}, { ...NO_CAPABILITIES, press: true }, extra)).toMatch(/p:press .*w:wave$/);
    expect(renderFooter({ question: "restart" }, ALL_CAPS)).toContain("restart? y/n");
  });

  it("rejects bad options by name", () => {
    expect(() => resolveOptions({ fps: 0 })).toThrow("options.fps must be at least 1");
    expect(() => resolveOptions({ fps: 2.5 })).toThrow("options.fps must be an integer");
    expect(() => resolveOptions({ windowS: 1 })).toThrow("options.windowS must be at least 10");
    expect(resolveOptions({ output: process.stderr }).handleProcess).toBe(false);
  });
});

describe("renderDetail", () => {
  const node = { id: NodeId("n-0010"), kind: "sim", on: false, online: false, sync: "unknown" } as const;
  const detail = (desired: NodeDetail["desired"]): NodeDetail => ({
    node,
    follows: [NodeId("n-0009")],
    followers: [NodeId("n-0011")],
    ...(desired ? { desired } : {}),
  });

  it("shows what the twins still wait for the node to take: a pairing, a set", () => {
    // Paired with n-0040 and set on from the console while the node was offline: it still follows
    // n-0009, and the pane used to say only that, the operator's two commands nowhere.
    const d = detail({
      sources: [NodeId("n-0009"), NodeId("n-0040")],
      configVersion: 2,
      pending: true,
      pendingSet: { on: true, counter: 124 },
    });
    expect(renderDetail(d, 38).map(plain)).toEqual([
      "n-0010 sim",
      "off  offline",
      "follows   n-0009",
      "pending   n-0009 n-0040",
      "set on waits for the node",
      "followers n-0011",
    ]);
    expect(plain(renderDetail(d, 60)[4] ?? "")).toBe("set on waits for the node (counter 124)");
  });

  it("says a set another twins service keeps for the node, and whose, where its own keeps none", () => {
    const d = {
      ...detail({ sources: [NodeId("n-0009")], configVersion: 1, pending: false }),
      keptElsewhere: { on: true, by: "tf-twins-3f9a1c2e" },
    };
    expect(renderDetail(d, 60).map(plain)).toEqual([
      "n-0010 sim",
      "off  offline",
      "follows   n-0009",
      "set on waits for the node, kept by tf-twins-3f9a1c2e",
      "followers n-0011",
    ]);
    expect(plain(renderDetail(d, 40)[3] ?? "")).toBe("set on waits, kept by tf-twins-3f9a1c2e");
    expect(
      plain(renderDetail({ ...d, keptElsewhere: { on: false, by: "tf-twins-3f9a1c2e" } }, 30)[3] ?? ""),
    ).toBe("set off waits, kept elsewhere");
  });

  it("shows nothing pending once the node follows what is desired and holds no set", () => {
    const confirmed = detail({ sources: [NodeId("n-0009")], configVersion: 1, pending: false });
    expect(renderDetail(confirmed, 38).map(plain)).toEqual([
      "n-0010 sim",
      "off  offline",
      "follows   n-0009",
      "followers n-0011",
    ]);
    // A set pending only: no pairing line.
    const set = detail({
      sources: [NodeId("n-0009")],
      configVersion: 1,
      pending: true,
      pairingPending: false,
      pendingSet: { on: false, counter: 3 },
    });
    expect(renderDetail(set, 60).map(plain)).toContain("set off waits for the node (counter 3)");
    expect(renderDetail(set, 60)).toHaveLength(5);
  });

  it("says a pairing the node follows on the broker's copy only is not confirmed by it yet", () => {
    // Paired while offline: `follows` is the config written for it on the broker, not the node's own.
    const d = detail({ sources: [NodeId("n-0009")], configVersion: 4, pending: true, pairingPending: true });
    expect(renderDetail(d, 38).map(plain)).toEqual([
      "n-0010 sim",
      "off  offline",
      "follows   n-0009",
      "pending   not confirmed by the node",
      "followers n-0011",
    ]);
  });
});

describe("renderLog", () => {
  const line = (text: string, level: "info" | "warn" = "info") => ({ t: 65_000, level, text });
  it("wraps a line longer than the box at spaces, its rows under its text, and keeps the newest rows", () => {
    const text =
      "the pairing (lamp-2 follows lamp-1) is stored, and sent once the broker is back and lamp-2 registers";
    const rows = renderLog([line("first"), line(text, "warn")], 0, 10, 46);
    expect(rows).toEqual([
      "{gray-fg}01:05{/gray-fg} first",
      "{gray-fg}01:05{/gray-fg} {yellow-fg}the pairing (lamp-2 follows lamp-1) is{/yellow-fg}",
      "      {yellow-fg}stored, and sent once the broker is back{/yellow-fg}",
      "      {yellow-fg}and lamp-2 registers{/yellow-fg}",
    ]);
    for (const r of rows) expect(r.replace(/\{[^}]*\}/g, "").length).toBeLessThanOrEqual(46);
    // Two rows of room: the last two rows of the newest line.
    expect(renderLog([line("first"), line(text)], 0, 2, 46)).toEqual([
      "      stored, and sent once the broker is back",
      "      and lamp-2 registers",
    ]);
  });

  it("cuts a word longer than the box where it must", () => {
    expect(wrap("x".repeat(25), 10)).toEqual(["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
  });
});
