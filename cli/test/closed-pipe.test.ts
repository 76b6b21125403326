/**
 * `twinfleet … | head`: the reader of its output closes the pipe before the command has written
 * everything. The command finishes as it would have, with its own exit code, and no EPIPE crash.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../console/test/tmux.js";
import { cliArgs } from "../../node/test/cli-command.js";

function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Closed before the process has started up, so its first write meets a pipe with no reader.
  child.stdout.destroy();
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, err })));
}

describe("a closed output pipe", () => {
  it("ends the help text quietly with exit code 0", async () => {
    const r = await runWithClosedStdout(["sim", "--help"]);
    expect(r.err).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
  }, 60_000);

  it("keeps a usage error's exit code", async () => {
    const r = await runWithClosedStdout(["sim", "--nodes", "many"]);
    expect(r.err).toMatch(/--nodes/);
    expect(r.code).toBe(2);
  }, 60_000);
});
