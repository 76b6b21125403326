/**
 * A real terminal for end-to-end tests: a private tmux server with one session, driven with
 * send-keys and read with capture-pane.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export class TmuxSession {
  private readonly socket = `tf-e2e-${process.pid}-${randomBytes(3).toString("hex")}`;
  private readonly name = "e2e";

  /** Starts `cmd` in a 100×30 UTF-8 xterm-256color terminal at the repository root. */
  start(cmd: string, cols = 100, rows = 30): void {
    this.tmux(
      "new-session",
      "-d",
      "-s",
      this.name,
      "-x",
      String(cols),
      "-y",
      String(rows),
      "-e",
      "LANG=C.UTF-8",
      "-e",
      "TERM=xterm-256color",
      cmd,
    );
  }

  keys(...keys: string[]): void {
    this.tmux("send-keys", "-t", this.name, ...keys);
  }

  screen(): string {
    return this.tmux("capture-pane", "-p", "-t", this.name);
  }

  /**
   * Polls the pane until `test` holds (returning what it matched), or fails with the last screen.
   * Each look is a process of its own that does not hold up the test's other terminals (tests run
   * side by side), so a screen that lasts a second or two is not missed while they look at theirs.
   */
  async waitFor<T>(what: string, test: (s: string) => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      last = await this.screenSoon();
      const found = test(last);
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
  }

  private async screenSoon(): Promise<string> {
    const args = ["-L", this.socket, "capture-pane", "-p", "-t", this.name];
    return (await execFileAsync("tmux", args, { encoding: "utf8", cwd: ROOT })).stdout;
  }

  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // already gone
    }
  }

  private tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8", cwd: ROOT });
  }
}

/** The console header's in-sync percentage. */
export function inSync(s: string): number | undefined {
  const m = /in sync (\d+\.\d)%/.exec(s.split("\n")[0] ?? "");
  return m ? Number(m[1]) : undefined;
}

/** The console header's loss. */
export function headerHas(s: string, text: string): true | undefined {
  return s.split("\n")[0]?.includes(text) ? true : undefined;
}
