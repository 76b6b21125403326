/**
 * SIGTERM to `twinfleet monitor` while it starts, before it listens for the signal: Node's default
 * ended it there, by the signal (exit 143, 0.3-1.5 s after the spawn on a loaded 2-core host); it is
 * held from the process's first line now (cli/early-hang-ups.ts) and the command stops as it would
 * once started. The moment is made certain, not timed: the monitor reads its --password-file from
 * its terminal (/dev/tty, in tmux) and so holds, in the middle of its start, until a line is typed;
 * the signal is sent while it waits there. Judged by the exit code and the lines.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { TmuxSession } from "../../console/test/tmux.js";
import { cliCommand } from "../../node/test/cli-command.js";
import { Spawned } from "./spawned.js";

const spawned = new Spawned("monitor-stop");
let broker: RunningBroker | undefined;
let tmux: TmuxSession | undefined;
afterEach(async () => {
  tmux?.kill();
  tmux = undefined;
  await spawned.cleanUp();
  await broker?.close();
  broker = undefined;
});

/** Whether process `pid` has its terminal open besides its stdio: it is reading the password. */
function readsTerminal(pid: number): boolean {
  const fds = `/proc/${pid}/fd`;
  try {
    return readdirSync(fds).some((fd) => Number(fd) > 2 && readlinkSync(join(fds, fd)) === "/dev/tty");
  } catch {
    return false;
  }
}

it.runIf(existsSync("/proc/self/fd"))(
  "monitor --http with no terminal for its page: a SIGTERM while it starts stops it cleanly (exit 0)",
  async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0 });
    const dir = await spawned.scratch();
    const [pidFile, out, rc] = ["pid", "out", "rc"].map((f) => join(dir, f)) as [string, string, string];
    const monitor = `monitor --broker ${broker.url} --username ctl --password-file /dev/tty --http 127.0.0.1:0`;
    tmux = new TmuxSession();
    // Its stdin and stdout are no terminal (the page is served alone); /dev/tty is the pane.
    tmux.start(
      `sh -c 'echo $$ > ${pidFile}; ${cliCommand()} ${monitor} </dev/null >${out} 2>&1; echo $? > ${rc}'`,
    );
    // The file is made by the shell's redirection before its echo writes the pid: wait for the line.
    const shellPid = () => (existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim() : "");
    await expect.poll(() => /^\d+$/.test(shellPid()), { timeout: 30_000 }).toBe(true);
    const pid = Number(shellPid());
    // The shell's pid is the monitor's parent's: its child, once it runs.
    const child = () => {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      return kids === "" ? undefined : Number(kids.split(" ")[0]);
    };
    await expect.poll(() => child(), { timeout: 30_000 }).toBeDefined();
    const monitorPid = child() as number;
    await expect.poll(() => readsTerminal(monitorPid), { timeout: 60_000 }).toBe(true);
    process.kill(monitorPid, "SIGTERM");
    try {
      tmux.keys("pw", "Enter", "C-d");
    } catch {
      // The pane is gone: the monitor ended by the signal, as it did before (rc 143).
    }
    await expect.poll(() => existsSync(rc) && readFileSync(rc, "utf8").trim(), { timeout: 60_000 }).toBe("0");
    const said = readFileSync(out, "utf8");
    // Before, the shell saw 143: the signal's default, nothing said.
    expect(said).toMatch(/twinfleet monitor: stopped\n$/);
  },
  120_000,
);
