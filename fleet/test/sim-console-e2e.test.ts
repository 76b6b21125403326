/**
 * `twinfleet sim` in a real terminal (tmux): the console opens on a simulated fleet that converges;
 * with the loss raised, one press on a ring of 24 takes convergence down while it travels; with the
 * loss back at 0 the fleet is in sync again; quitting settles the run and prints the summary with
 * the terminal restored. No random presses (--rate 0), so the one press is the only event.
 */
import { afterAll, describe, expect, it } from "vitest";
import { headerHas, inSync, TmuxSession } from "../../console/test/tmux.js";

const term = new TmuxSession();
afterAll(() => term.kill());

const below = (limit: number) => (s: string) => {
  const v = inSync(s);
  return v !== undefined && v < limit ? v : undefined;
};
const atLeast = (limit: number) => (s: string) => {
  const v = inSync(s);
  return v !== undefined && v >= limit ? v : undefined;
};

describe("twinfleet sim with the console", () => {
  it("starts a fleet, raises the loss, presses a node, sees convergence drop and recover, quits", async () => {
    term.start(
      `${process.execPath} --import tsx cli/bin.ts sim --nodes 24 --group-size 24 --rate 0 --settle 1 --workers 2; echo "EXIT=$?"; sleep 120`,
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
});
