/**
 * `twinfleet sim --clock virtual` in a real terminal (tmux): the console opens on the virtual run at
 * real-time speed, with the twins' view of a fleet that converges; `>` makes virtual time go several
 * times faster per wall second, `P` stops it and starts it again, and quitting settles the run and
 * prints the summary (the twins service on the run's clock). The header shows virtual seconds and
 * the pace; the ratios asked of the wall clock are generous (the machine may be busy).
 */
import { afterAll, describe, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import { inSync, TmuxSession } from "./tmux.js";

const term = new TmuxSession();
afterAll(() => term.kill());

interface Clock {
  readonly t: number;
  readonly paused: boolean;
  readonly speed: string;
}

/** The header's virtual time and pace: `virtual 42 s ×10` or `virtual 42 s PAUSED ×10`. */
function clockOf(s: string): Clock | undefined {
  const m = /virtual (\d+) s (PAUSED )?(×\d+|max)/.exec(s.split("\n")[0] ?? "");
  return m ? { t: Number(m[1]), paused: m[2] !== undefined, speed: m[3] ?? "" } : undefined;
}

/** Virtual seconds per wall second while virtual time moves on by `span` seconds. */
async function pace(span: number, timeoutMs: number): Promise<number> {
  const a = await term.waitFor("the virtual clock", clockOf);
  const wall0 = Date.now();
  const b = await term.waitFor(
    `${span} virtual seconds`,
    (s) => {
      const c = clockOf(s);
      return c && c.t >= a.t + span ? c : undefined;
    },
    timeoutMs,
  );
  return (b.t - a.t) / ((Date.now() - wall0) / 1000);
}

describe("twinfleet sim --clock virtual with the console", () => {
  it("opens at real-time speed, goes faster on >, stops on P and resumes, quits to the summary", async () => {
    term.start(
      `${cliCommand()} sim --clock virtual --nodes 24 --rate 6 --settle 1; echo "EXIT=$?"; sleep 120`,
      140,
      30,
    );
    await term.waitFor("the console at ×1", (s) => (clockOf(s)?.speed === "×1" ? true : undefined), 60_000);
    await term.waitFor("every node in sync", (s) => ((inSync(s) ?? 0) >= 99.9 ? true : undefined), 60_000);
    const slow = await pace(3, 30_000);
    expect(slow).toBeGreaterThan(0.3);
    expect(slow).toBeLessThan(3);

    term.keys(">");
    await term.waitFor("×10 in the header", (s) => (clockOf(s)?.speed === "×10" ? true : undefined));
    const fast = await pace(30, 30_000);
    expect(fast).toBeGreaterThan(3);
    expect(fast).toBeLessThan(30);
    expect(fast).toBeGreaterThan(slow * 3);

    term.keys("P");
    const stopped = await term.waitFor("PAUSED in the header", (s) => {
      const c = clockOf(s);
      return c?.paused ? c : undefined;
    });
    // Nothing to wait for but the absence of change: 1.5 s of wall time is 15 s of virtual time at ×10.
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      expect(clockOf(term.screen())?.t).toBe(stopped.t);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(term.screen()).toContain("virtual time paused");

    term.keys("P");
    await term.waitFor("virtual time moving again", (s) => {
      const c = clockOf(s);
      return c && !c.paused && c.t > stopped.t ? true : undefined;
    });

    term.keys("q");
    const after = await term.waitFor("the summary", (s) => (s.includes("EXIT=") ? s : undefined), 60_000);
    expect(after).toContain("EXIT=0");
    expect(after).toMatch(/registration\s+24\/24/);
    expect(after).toMatch(/ok\s+diverged\s+0/);
    expect(after).toContain("virtual time   in-memory broker, the run's twins service on the same clock");
  }, 240_000);
});
