/**
 * The console in a real terminal: `twinfleet monitor --demo` inside tmux, driven with send-keys and
 * read with capture-pane. Start the fleet, raise the loss, press a node, watch convergence drop and
 * recover, quit, and find the shell's screen restored with exit code 0.
 */
import { afterAll, describe, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import { headerHas, inSync, TmuxSession } from "./tmux.js";

const term = new TmuxSession();
afterAll(() => term.kill());

describe("console in tmux", () => {
  it("shows a converging demo fleet, loses sync under loss, recovers, and quits cleanly", async () => {
    term.start(`${cliCommand()} monitor --demo --nodes 400; echo "EXIT=$?"; sleep 120`);

    // The whole first frame: a capture can fall between the writes that draw it.
    const first = await term.waitFor("the fleet view with its convergence and latency panels", (s) =>
      ["400 nodes", "convergence", "paper's 1 s"].every((t) => s.includes(t)) ? s : undefined,
    );
    expect(first).toContain("in sync");
    await term.waitFor("convergence at 95 % or more", (s) => ((inSync(s) ?? 0) >= 95 ? true : undefined));

    term.keys("L", "4", "0", "Enter");
    await term.waitFor("the loss in the header", (s) => headerHas(s, "loss 40%"));
    const low = await term.waitFor("convergence below 90 %", (s) => {
      const v = inSync(s);
      return v !== undefined && v < 90 ? v : undefined;
    });
    expect(low).toBeLessThan(90);

    term.keys("Right", "p");
    await term.waitFor("the press in the event log", (s) => (s.includes("press n-0001") ? true : undefined));

    term.keys("L", "0", "Enter");
    await term.waitFor("the loss back at 0", (s) => headerHas(s, "loss 0%"));
    const high = await term.waitFor("convergence back at 95 % or more", (s) => {
      const v = inSync(s);
      return v !== undefined && v >= 95 ? v : undefined;
    });
    expect(high).toBeGreaterThanOrEqual(95);

    term.keys("q");
    const after = await term.waitFor("the exit code", (s) => (s.includes("EXIT=") ? s : undefined));
    expect(after).toContain("EXIT=0");
    expect(after).toContain("console closed");
    // The alternate screen is gone: none of the console's frames are left on the shell's screen.
    expect(after).not.toContain("convergence");
  }, 120_000);
});
