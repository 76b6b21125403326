/**
 * `twinfleet sim` in a real terminal (tmux): the console opens on a simulated fleet, which converges;
 * raising the loss makes convergence drop, pressing a node shows in the log, lowering the loss lets it
 * recover, and quitting settles the run and prints the summary with the terminal restored.
 */
import { afterAll, describe, expect, it } from "vitest";
import { headerHas, inSync, TmuxSession } from "../../console/test/tmux.js";

const term = new TmuxSession();
afterAll(() => term.kill());

describe("twinfleet sim with the console", () => {
  it("starts a fleet, loses and regains sync with the loss, presses a node and quits to a summary", async () => {
    term.start(
      `${process.execPath} --import tsx cli/bin.ts sim --nodes 48 --group-size 6 --rate 30 --settle 2 --workers 2; echo "EXIT=$?"; sleep 120`,
    );
    await term.waitFor("the fleet view", (s) =>
      s.includes("48 nodes") && s.includes("convergence") ? true : undefined,
    );
    await term.waitFor(
      "every node registered and in sync",
      (s) => ((inSync(s) ?? 0) >= 95 ? true : undefined),
      60_000,
    );

    term.keys("L", "3", "0", "Enter");
    await term.waitFor("the loss in the header", (s) => headerHas(s, "loss 30%"));
    const low = await term.waitFor(
      "convergence below 90 %",
      (s) => {
        const v = inSync(s);
        return v !== undefined && v < 90 ? v : undefined;
      },
      60_000,
    );
    expect(low).toBeLessThan(90);

    term.keys("Right", "p");
    await term.waitFor("the press in the event log", (s) =>
      /n-0001 pressed|press n-0001/.test(s) ? true : undefined,
    );

    term.keys("L", "0", "Enter");
    await term.waitFor("the loss back at 0", (s) => headerHas(s, "loss 0%"));
    await term.waitFor(
      "convergence back at 90 % or more",
      (s) => ((inSync(s) ?? 0) >= 90 ? true : undefined),
      60_000,
    );

    term.keys("q");
    const after = await term.waitFor(
      "the summary and exit code",
      (s) => (s.includes("EXIT=") ? s : undefined),
      60_000,
    );
    expect(after).toContain("EXIT=0");
    expect(after).toMatch(/registration\s+48\/48/);
    expect(after).toMatch(/sync latency\s+p50/);
    expect(after).not.toContain("convergence");
  }, 240_000);
});
