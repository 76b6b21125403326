/**
 * The console where the terminal cannot carry it, in a real terminal (tmux): stdin not a terminal
 * (`< /dev/null`: no key would reach it, and the typed ones were echoed over its frames) or
 * TERM=dumb (no cursor movement: it drew each frame after the last, a screenful of garbage).
 * `monitor` refuses with a usage error naming what is missing; `sim` says so and runs headless,
 * with progress lines.
 */
import { afterAll, describe, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import { TmuxSession } from "./tmux.js";

const sessions: TmuxSession[] = [];
afterAll(() => {
  for (const s of sessions) s.kill();
});

async function ran(cmd: string): Promise<string> {
  const term = new TmuxSession();
  sessions.push(term);
  term.start(`${cmd}; echo "EXIT=$?"; sleep 120`);
  return term.waitFor("the exit code", (s) => (s.includes("EXIT=") ? s : undefined), 60_000);
}

describe.concurrent("the console without a terminal it can use", () => {
  it("monitor refuses when stdin is not a terminal, exit 2", async () => {
    const s = await ran(`${cliCommand()} monitor --demo --nodes 10 < /dev/null`);
    expect(s).toContain("the console needs a terminal, and stdin is not one");
    expect(s).toContain("EXIT=2");
  }, 90_000);

  it("monitor refuses on TERM=dumb, exit 2", async () => {
    const s = await ran(`TERM=dumb ${cliCommand()} monitor --demo --nodes 10`);
    expect(s).toContain("the console needs a terminal, and TERM=dumb cannot move the cursor");
    expect(s).toContain("EXIT=2");
  }, 90_000);

  it("sim with stdin not a terminal runs headless and says why", async () => {
    const s = await ran(
      `${cliCommand()} sim --nodes 4 --group-size 4 --profile ideal --workers 1 --duration 2 --settle 1 < /dev/null`,
    );
    expect(s).toContain("no console: it needs a terminal, and stdin is not one");
    expect(s).toMatch(/registration\s+4\/4/);
    expect(s).toContain("EXIT=0");
  }, 90_000);
});
