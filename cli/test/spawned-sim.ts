/**
 * `twinfleet` as a process (cli-command.ts), for tests that signal it: its stdout and stderr collected,
 * `seen(re)` resolves once stderr matches, `exited` with the exit code.
 */
import { spawn } from "node:child_process";
import { ROOT } from "../../console/test/tmux.js";
import { cliArgs } from "../../node/test/cli-command.js";

export function spawnCli(args: readonly string[], env?: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    ...(env !== undefined ? { env } : {}),
  });
  let out = "";
  let err = "";
  const waiters: { test: RegExp; resolve: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.splice(0)) {
      if (w.test.test(err)) w.resolve();
      else waiters.push(w);
    }
  });
  const seen = (test: RegExp) =>
    new Promise<void>((resolve) => (test.test(err) ? resolve() : waiters.push({ test, resolve })));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, seen, exited, out: () => out, err: () => err };
}
