/**
 * `twinfleet sim` in a terminal that goes away under it (its tmux session killed: a closed window,
 * a dropped ssh connection). The shell that ran it passes the SIGHUP on, as an interactive shell
 * does, and keeps the exit code; with no shell passing it on, the console sees its input end. Either
 * way the run is cut short: the report is written (`cutShort`), the exit code is 130, and nothing
 * crashes on the terminal that is gone (it used to: an EIO thrown from the console's last frame, no
 * report; then Node's abort as it could not restore the terminal). `twinfleet monitor` is closed the
 * same way, and by SIGTERM, with exit code 130 as a run cut short (it exited 0, as after `q`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import { TmuxSession } from "./tmux.js";

const dir = mkdtempSync(join(tmpdir(), "tf-hangup-"));
const sessions: TmuxSession[] = [];
afterAll(() => {
  for (const s of sessions) s.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** The shell script the terminal runs: the sim (or `command`), its stderr and exit code to files. */
function script(
  name: string,
  onHup: string,
  command?: string,
): { path: string; rc: string; err: string; report: string; pid: string } {
  const f = (ext: string) => join(dir, `${name}.${ext}`);
  const sim =
    command ??
    `${cliCommand()} sim --nodes 4 --group-size 4 --profile ideal --rate 0 --workers 1 --report ${f("json")}`;
  writeFileSync(
    f("sh"),
    [
      `trap '${onHup}' HUP`,
      `${sim} <&0 2>${f("err")} &`,
      "pid=$!",
      `echo "$pid" > ${f("pid")}`,
      'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done',
      `echo "$rc" > ${f("rc")}`,
    ].join("\n"),
  );
  return { path: f("sh"), rc: f("rc"), err: f("err"), report: f("json"), pid: f("pid") };
}

async function until(test: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.concurrent("the terminal killed under a sim run's console", () => {
  for (const [name, onHup] of [
    ["SIGHUP passed on", 'kill -HUP "$pid"'],
    ["no SIGHUP", ""],
  ] as const) {
    it(`writes the report, cut short, and exits 130: ${name}`, async () => {
      const term = new TmuxSession();
      sessions.push(term);
      const s = script(name.replace(/\W/g, "-"), onHup);
      term.start(`bash ${s.path}`);
      await term.waitFor("the press phase", (v) => (v.includes("phase: press") ? true : undefined), 60_000);
      term.kill();
      await until(() => existsSync(s.rc), "the exit code");
      const err = readFileSync(s.err, "utf8");
      expect(err).not.toMatch(/Assertion|EIO|at .*\.js/);
      expect(readFileSync(s.rc, "utf8").trim()).toBe("130");
      expect(JSON.parse(readFileSync(s.report, "utf8")).cutShort).toBe(true);
    }, 120_000);
  }
});

describe.concurrent("the terminal killed under monitor's console", () => {
  for (const [name, onHup] of [
    ["SIGHUP passed on", 'kill -HUP "$pid"'],
    ["no SIGHUP", ""],
  ] as const) {
    it(`closes it and exits 130, cut short as a run is: ${name}`, async () => {
      const term = new TmuxSession();
      sessions.push(term);
      const s = script(
        `monitor-${name.replace(/\W/g, "-")}`,
        onHup,
        `${cliCommand()} monitor --demo --nodes 20`,
      );
      term.start(`bash ${s.path}`);
      await term.waitFor("the console", (v) => (v.includes("20 nodes") ? true : undefined), 60_000);
      term.kill();
      await until(() => existsSync(s.rc), "the exit code");
      const err = readFileSync(s.err, "utf8");
      expect(readFileSync(s.rc, "utf8").trim(), err).toBe("130");
      expect(err).not.toMatch(/Assertion|EIO|at .*\.js/);
      expect(err).toMatch(/twinfleet monitor: (SIGHUP|the terminal hung up): console closed/);
    }, 120_000);
  }
});

describe.concurrent("monitor's console closed otherwise", () => {
  for (const [name, end, rc, says] of [
    ["SIGTERM", "SIGTERM", "130", "twinfleet monitor: SIGTERM: console closed"],
    ["q", "q", "0", "twinfleet monitor: console closed"],
  ] as const) {
    it(`exits ${rc} on ${name}`, async () => {
      const term = new TmuxSession();
      sessions.push(term);
      const s = script(`monitor-${name}`, "", `${cliCommand()} monitor --demo --nodes 20`);
      term.start(`bash ${s.path}`);
      await term.waitFor("the console", (v) => (v.includes("20 nodes") ? true : undefined), 60_000);
      if (end === "q") term.keys("q");
      else process.kill(Number(readFileSync(s.pid, "utf8")), end);
      await until(() => existsSync(s.rc), "the exit code");
      const err = readFileSync(s.err, "utf8");
      expect(readFileSync(s.rc, "utf8").trim(), err).toBe(rc);
      expect(err.trim()).toBe(says);
    }, 120_000);
  }
});
