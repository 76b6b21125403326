/**
 * `twinfleet sim` in a real terminal (tmux): the console opens on a simulated fleet that converges;
 * with the loss raised, one press on a ring of 24 takes convergence down while it travels; with the
 * loss back at 0 the fleet is in sync again; quitting settles the run and prints the summary with
 * the terminal restored. No random presses (--rate 0), so the one press is the only event. Then a
 * power outage from the keyboard on a small ideal fleet: asked, confirmed, shown in the header while
 * it lasts and in the event log as it starts and ends, and in the summary's faults. Last, quitting
 * during a long settle: the console says it is settling and counts down, and Ctrl-C ends it at once.
 * The three terminals run side by side: each mostly waits on its run's clock, not on the CPU.
 */
import { afterAll, describe, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import { headerHas, inSync, TmuxSession } from "./tmux.js";

const term = new TmuxSession();
const faulty = new TmuxSession();
const quitter = new TmuxSession();
afterAll(() => {
  term.kill();
  faulty.kill();
  quitter.kill();
});

const below = (limit: number) => (s: string) => {
  const v = inSync(s);
  return v !== undefined && v < limit ? v : undefined;
};
const atLeast = (limit: number) => (s: string) => {
  const v = inSync(s);
  return v !== undefined && v >= limit ? v : undefined;
};

describe.concurrent("twinfleet sim with the console", () => {
  it("starts a fleet, raises the loss, presses a node, sees convergence drop and recover, quits", async () => {
    term.start(
      `${cliCommand()} sim --nodes 24 --group-size 24 --rate 0 --settle 1 --workers 2; echo "EXIT=$?"; sleep 120`,
    );
    await term.waitFor("the fleet view", (s) =>
      s.includes("24 nodes") && s.includes("convergence") ? true : undefined,
    );
    await term.waitFor("every node in sync", atLeast(99.9), 60_000);

    term.keys("L", "2", "0", "Enter");
    await term.waitFor("the loss in the header", (s) => headerHas(s, "loss 20%"));

    term.keys("Right", "p");
    const low = await term.waitFor("convergence dropping as the press travels", below(90), 30_000);
    expect(low).toBeLessThan(90);

    term.keys("L", "0", "Enter");
    await term.waitFor("the loss back at 0", (s) => headerHas(s, "loss 0%"));
    await term.waitFor("convergence back at 100 %", atLeast(99.9), 90_000);

    term.keys("q");
    const after = await term.waitFor(
      "the summary and exit code",
      (s) => (s.includes("EXIT=") ? s : undefined),
      60_000,
    );
    expect(after).toContain("EXIT=0");
    // The one press reaches the 23 other members of the ring: on time, or later than 5 s (lost).
    const delivered = Number(/1 presses, (\d+) deliveries/.exec(after)?.[1] ?? "-1");
    const lost = Number(/lost\s+(\d+)/.exec(after)?.[1] ?? "-1");
    expect(delivered).toBeGreaterThan(0);
    expect(delivered + lost).toBe(23);
    expect(after).toMatch(/registration\s+24\/24/);
    expect(after).toMatch(/ok\s+diverged\s+0/);
    expect(after).not.toContain("convergence");
  }, 300_000);

  it("cuts every node's power from the keyboard after a y, shows the fault while it lasts, recovers", async () => {
    faulty.start(
      `${cliCommand()} sim --nodes 2 --group-size 2 --profile ideal --rate 0 --settle 1 --workers 1; echo "EXIT=$?"; sleep 120`,
      100,
      40, // an event log of 7 lines: the fault's lines stay in view while the nodes come back
    );
    // The presses start once every node has registered: the fault hits a fleet that is up.
    await faulty.waitFor("the press phase", (s) => (s.includes("phase: press") ? true : undefined), 60_000);

    faulty.keys("O");
    await faulty.waitFor("the question", (s) =>
      s.includes("cut the power of every node for 2 s? y/n") ? true : undefined,
    );
    faulty.keys("y");
    const during = await faulty.waitFor("the fault indicator", (s) =>
      /^ FAULT power-outage 2 nodes \d s /.test(s) ? s : undefined,
    );
    // Its start, told once, on the screen that shows it: only the nodes' offline lines follow it
    // while the fault lasts, so the 7-line box still holds it.
    expect(during.match(/fault: power-outage \(2 nodes\) started/g)).toHaveLength(1);
    // Its end: the header without the fault and the end's line. The start's line is not looked for
    // here: the nodes' lines coming back push it out of the box on a loaded host (the whole log, the
    // start told once, is view/test/sim-source.test.ts's).
    await faulty.waitFor("the end of the fault", (s) =>
      s.includes("fault: power-outage ended") && !s.split("\n")[0]?.includes("FAULT") ? true : undefined,
    );
    await faulty.waitFor("both nodes back", (s) => headerHas(s, "offline 0"));
    await faulty.waitFor("the fleet in sync", atLeast(99.9));

    faulty.keys("q");
    const summary = await faulty.waitFor("the summary", (s) => (s.includes("EXIT=") ? s : undefined), 60_000);
    expect(summary).toContain("EXIT=0");
    // The run's record of the fault, which cannot scroll away: one outage, ended, both nodes hit.
    expect(summary.match(/fault\s+power-outage at/g)).toHaveLength(1);
    expect(summary).toMatch(/fault\s+power-outage at -?[\d.]+ s for 2\.\d s: 2 nodes hit/);
    expect(summary).toMatch(/registration\s+2\/2/);
    expect(summary).toMatch(/ok\s+diverged\s+0/);
  }, 120_000);

  it("says it is settling after q, counts down, and a Ctrl-C then ends at once with the run cut short", async () => {
    quitter.start(
      `${cliCommand()} sim --nodes 2 --group-size 2 --profile ideal --rate 0 --settle 60 --workers 1; echo "EXIT=$?"; sleep 120`,
    );
    await quitter.waitFor("the press phase", (s) => (s.includes("phase: press") ? true : undefined), 60_000);

    quitter.keys("q");
    const left = (s: string) => {
      const m = /settling: (\d+) s left/.exec(s);
      return m ? Number(m[1]) : undefined;
    };
    const first = await quitter.waitFor("the settle's countdown in the footer", left);
    expect(first).toBeLessThanOrEqual(60);
    expect(quitter.screen()).toContain("q or Ctrl-C: stop now");
    const later = await quitter.waitFor("the countdown moving", (s) => {
      const v = left(s);
      return v !== undefined && v < first ? v : undefined;
    });
    expect(later).toBeLessThan(first);

    const cutAt = Date.now();
    quitter.keys("C-c");
    const after = await quitter.waitFor("the summary and exit code", (s) =>
      s.includes("EXIT=") ? s : undefined,
    );
    expect(Date.now() - cutAt).toBeLessThan(15_000);
    expect(after).toContain("EXIT=130");
    expect(after).toContain("cut short: writing the report with what is known");
    expect(after).toContain("CUT SHORT      the settle was stopped after");
    expect(after).not.toContain("convergence");
  }, 120_000);
});
