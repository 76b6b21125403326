/**
 * The console in a real terminal: `twinfleet monitor --demo` inside tmux, driven with send-keys and
 * read with capture-pane. Start the fleet, raise the loss, press a node, watch convergence drop and
 * recover, quit, and find the shell's screen restored with exit code 0.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SOCKET = `tf-console-${process.pid}-${randomBytes(3).toString("hex")}`;
const SESSION = "console";

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8", cwd: ROOT });
}

function screen(): string {
  return tmux("capture-pane", "-p", "-t", SESSION);
}

/** Polls the pane until `test` holds (returning what it matched), or fails with the last screen. */
async function waitFor<T>(what: string, test: (s: string) => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    last = screen();
    const found = test(last);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
}

/** The header's in-sync percentage. */
function inSync(s: string): number | undefined {
  const m = /in sync (\d+\.\d)%/.exec(s.split("\n")[0] ?? "");
  return m ? Number(m[1]) : undefined;
}

afterAll(() => {
  try {
    tmux("kill-server");
  } catch {
    // already gone
  }
});

describe("console in tmux", () => {
  it("shows a converging demo fleet, loses sync under loss, recovers, and quits cleanly", async () => {
    const cmd = `${process.execPath} --import tsx cli/bin.ts monitor --demo --nodes 400; echo "EXIT=$?"; sleep 120`;
    tmux(
      "new-session",
      "-d",
      "-s",
      SESSION,
      "-x",
      "100",
      "-y",
      "30",
      "-e",
      "LANG=C.UTF-8",
      "-e",
      "TERM=xterm-256color",
      cmd,
    );

    const first = await waitFor("the fleet view", (s) => (s.includes("400 nodes") ? s : undefined));
    expect(first).toContain("convergence");
    expect(first).toContain("paper's 1 s");
    await waitFor("convergence at 95 % or more", (s) => ((inSync(s) ?? 0) >= 95 ? true : undefined));

    tmux("send-keys", "-t", SESSION, "L", "4", "0", "Enter");
    await waitFor("the loss in the header", (s) =>
      s.split("\n")[0]?.includes("loss 40%") ? true : undefined,
    );
    const low = await waitFor("convergence below 90 %", (s) => {
      const v = inSync(s);
      return v !== undefined && v < 90 ? v : undefined;
    });
    expect(low).toBeLessThan(90);

    tmux("send-keys", "-t", SESSION, "Right", "p");
    await waitFor("the press in the event log", (s) => (s.includes("press n-0001") ? true : undefined));

    tmux("send-keys", "-t", SESSION, "L", "0", "Enter");
    await waitFor("the loss back at 0", (s) => (s.split("\n")[0]?.includes("loss 0%") ? true : undefined));
    const high = await waitFor("convergence back at 95 % or more", (s) => {
      const v = inSync(s);
      return v !== undefined && v >= 95 ? v : undefined;
    });
    expect(high).toBeGreaterThanOrEqual(95);

    tmux("send-keys", "-t", SESSION, "q");
    const after = await waitFor("the exit code", (s) => (s.includes("EXIT=") ? s : undefined));
    expect(after).toContain("EXIT=0");
    expect(after).toContain("console closed");
    // The alternate screen is gone: none of the console's frames are left on the shell's screen.
    expect(after).not.toContain("convergence");
  }, 120_000);
});
