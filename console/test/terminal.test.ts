/**
 * The console on terminals that misbehave: one that hangs up under it (its input ends, with or
 * without a SIGHUP to follow); one resized, down to too small to draw the boxes in (a message
 * instead of boxes drawn over each other) and back; titles longer than their boxes (long node ids,
 * a filter, a narrow terminal), which blessed wrapped into the boxes' first rows; a help taller
 * than the terminal, which scrolls (its last keys were out of reach below 27 rows); one that is
 * not UTF-8 (LANG=C), where text that is not ASCII came out as `?`.
 */
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NodeId } from "../../protocol/index.js";
import type { ConsoleNode, NodeDetail } from "../../view/source.js";
import type { ConsoleHandle } from "../app.js";
import { ALL_CAPS, consoleIn, FakeSource, settle, virtualTerminal } from "./helpers.js";

const open: ConsoleHandle[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
  vi.unstubAllEnvs();
});

const start = (source: FakeSource, term?: Parameters<typeof consoleIn>[2]) => consoleIn(source, open, term);

describe("a terminal that hangs up", () => {
  it("closes the console when the terminal's input ends, as SIGHUP would", async () => {
    const term = virtualTerminal(80, 24);
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const c = start(new FakeSource(50), { input, output: term.output });
    input.end();
    await settle();
    await settle();
    expect(c.closed()).toBe(true);
  });
});

/** The fleet of FakeSource with 23-character ids, the longest the protocol allows. */
class LongIds extends FakeSource {
  override nodes(): readonly ConsoleNode[] {
    return super.nodes().map((n) => ({ ...n, id: long(n.id) }));
  }
  override detail(nodeId: NodeId): NodeDetail | undefined {
    const d = super.detail(nodeId.replace(/^very-long-node-id-/, "n-") as NodeId);
    return d && { ...d, node: { ...d.node, id: nodeId } };
  }
}
const long = (id: string) => id.replace(/^n-/, "very-long-node-id-") as NodeId;

/** A virtual terminal that can be resized as tmux resize-window does. */
function resizable(columns: number, rows: number) {
  const term = virtualTerminal(columns, rows);
  const resize = (c: number, r: number) => {
    Object.assign(term.output, { columns: c, rows: r });
    term.output.emit("resize");
  };
  return { term, resize };
}

/** Box-drawing: borders and corners (Unicode or, without a UTF-8 locale, ASCII). */
const BOX = /[┌┐└┘│─]|[+|]-|-[+|]/;

describe("a terminal resized while the console runs", () => {
  it("says it is too small below 40x12, acts on no key but q, and draws the fleet again when back", async () => {
    const source = new FakeSource(1000);
    const { term, resize } = resizable(120, 40);
    const c = start(source, term);
    const keys = async (...ks: string[]) => {
      for (const k of ks) {
        term.input.write(k);
        await settle();
      }
      c.handle.frame();
    };
    for (const [w, h] of [
      [20, 5],
      [39, 12],
      [40, 11],
      [1, 1],
    ] as const) {
      resize(w, h);
      c.handle.frame();
      const lines = c.handle.text();
      expect(lines).toHaveLength(h);
      const text = lines.join("\n");
      expect(text).not.toMatch(BOX);
      if (w >= 20) expect(text.replace(/\s+/g, " ")).toContain(`terminal too small: ${w}x${h};`);
    }
    resize(20, 5);
    await keys("p", "z", "B", "y");
    expect(source.actions).toEqual([]);
    resize(120, 40);
    c.handle.frame();
    const back = c.handle.text();
    expect(back[0]).toContain("1000 nodes");
    expect(back.join("\n")).toContain("in sync 87.3% 873/1000");
    expect(back.join("\n")).not.toContain("too small");
    resize(20, 5);
    await keys("q");
    expect(c.closed()).toBe(true);
  });

  it("draws every box at 40x12, each title on its border and the charts' first line in view", () => {
    const c = start(new FakeSource(1000), virtualTerminal(40, 12));
    const lines = c.handle.text();
    expect(lines).toHaveLength(12);
    // The fleet's first row holds cells only (the title wrapped into it: "Opg 1/42  ").
    expect(lines[2]?.slice(1, 23)).toMatch(/^[OoRrUux]{22}$/);
    expect(lines[2]).toContain("in sync 87.3%");
    const s = lines.join("\n");
    expect(s).toMatch(/p50 212ms/);
    expect(s).not.toContain("latency"); // the title cut to fit its 16 columns: "sync laten"
  });
});

describe("titles longer than their boxes", () => {
  it("keeps the fleet's title on its border with a 23-character id and a filter, at 70x20", async () => {
    const source = new LongIds(60);
    const term = virtualTerminal(70, 20);
    const c = start(source, term);
    for (const k of ["f", "f", "f"]) {
      term.input.write(k);
      await settle();
    }
    c.handle.frame();
    const lines = c.handle.text();
    expect(lines[1]).toContain("[real] very-long-node-id");
    expect(lines[1]).toContain("pg 1/1");
    // The first row of cells: the six real nodes (one off-line), then blanks (it read "Rpg 1/1 ...").
    expect(lines[2]?.slice(1, 12)).toBe("RxRRRR     ");
  });
});

describe("a help taller than the terminal", () => {
  it("scrolls with the arrows and PgDn to its last key and line, at 80x24 and at 40x12, and closes on any other key", async () => {
    for (const [w, h, presses] of [
      [80, 24, ["\x1b[B", "\x1b[B", "\x1b[B", "\x1b[B", "\x1b[B", "\x1b[B"]],
      [40, 12, ["\x1b[6~", "\x1b[6~", "\x1b[6~", "\x1b[6~", "\x1b[6~", "\x1b[6~"]],
    ] as const) {
      const source = new FakeSource(100);
      const term = virtualTerminal(w, h);
      const c = start(source, term);
      const keys = async (...ks: string[]) => {
        for (const k of ks) {
          term.input.write(k);
          await settle();
        }
        c.handle.frame();
      };
      await keys("?");
      let s = c.handle.text().join("\n");
      expect(s).toContain("keys (arrows, PgUp PgDn: more)".slice(0, w - 6));
      expect(s).not.toContain("cut every node's power");
      await keys(...presses);
      s = c.handle.text().join("\n");
      expect(s).toContain("cut every node");
      expect(s).toContain("Zoomed out: share on.");
      // The pace keys are not for this fleet, and say so in full, wrapped.
      if (w === 80) expect(s).toMatch(/max\) \(not for this fleet\)|\(not for this fleet\)/);
      await keys("p");
      expect(c.handle.text().join("\n")).not.toContain("cut every node");
      expect(source.actions).toEqual([]);
    }
  });
});

describe("a terminal that is not UTF-8", () => {
  it("writes a virtual run's speed as x10, not ?10 (LANG=C)", async () => {
    vi.stubEnv("LANG", "C");
    vi.stubEnv("LC_ALL", "");
    vi.stubEnv("LC_CTYPE", "");
    const source = new FakeSource(20, { ...ALL_CAPS, pace: true });
    source.paceNow = { speed: 10, paused: false };
    const term = virtualTerminal(100, 30);
    let written = "";
    term.output.on("data", (d: Buffer) => {
      written += d.toString("latin1");
    });
    const c = start(source, term);
    expect(c.handle.text()[0]).toContain("virtual 42 s ×10");
    await settle();
    expect(written).toContain("virtual 42 s x10");
    expect([...written].filter((ch) => ch.charCodeAt(0) > 0x7f)).toEqual([]);
  });
});

describe("a terminal's hang-up", () => {
  it("takes the SIGHUP that follows it once, where the process owns its signals", async () => {
    const { followingHangUp, onHangUp } = await import("../terminal.js");
    for (const owns of [true, false]) {
      const input = Object.assign(new PassThrough(), { isTTY: true });
      let ended = 0;
      onHangUp(input, () => ended++, owns);
      const before = process.listeners("SIGHUP").filter((l) => l === followingHangUp).length;
      input.end();
      input.resume();
      await settle();
      expect(ended).toBe(1);
      // Before, none: the SIGHUP after the hang-up killed the finishing process (exit 129, not 130).
      const after = process.listeners("SIGHUP").filter((l) => l === followingHangUp).length;
      expect(after - before).toBe(owns ? 1 : 0);
      process.removeListener("SIGHUP", followingHangUp);
    }
  });
});
