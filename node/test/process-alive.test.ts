/**
 * A process that ended but is not reaped yet (a zombie: kill -9'd, its parent not waiting for it)
 * is not alive: signal 0 still reaches it, and a twins service's lock it held stopped the next
 * start on "in use by another twins service". A real zombie: a shell's child, the shell become
 * `sleep`, which never reaps it (Linux only: /proc tells the state).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { processAlive, writerAlive } from "../process-alive.js";

let parent: ChildProcess | undefined;
afterEach(() => {
  parent?.kill("SIGKILL");
  parent = undefined;
});

const state = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
};

/**
 * A zombie's pid: a shell forks a child, then becomes `sleep`, which never reaps it. The child names
 * itself only once its parent is `sleep` (so the shell cannot have reaped it), and ends when the
 * test writes to its fd 3.
 */
async function zombie(): Promise<number> {
  const child = `until [ "$(cat /proc/$PPID/comm)" = sleep ]; do :; done; echo $$; head -c1 <&3 >/dev/null`;
  parent = spawn("sh", ["-c", `sh -c '${child}' & exec sleep 60 3<&-`], {
    stdio: ["ignore", "pipe", "inherit", "pipe"],
  });
  const out = parent.stdout;
  const end = parent.stdio[3] as Writable | null;
  if (!out || !end) throw new Error("no pipes");
  const pid = await new Promise<number>((resolve) => out.once("data", (b: Buffer) => resolve(Number(b))));
  end.end("x");
  // It exits on its own now; its state turns Z once it has (bounded: 10 s of a loaded host).
  for (let i = 0; i < 1000 && state(pid) !== "Z"; i++) await new Promise((r) => setTimeout(r, 10));
  return pid;
}

describe.runIf(existsSync("/proc/self/stat"))("processAlive", () => {
  it("takes a zombie for gone, and a live process for alive", async () => {
    const pid = await zombie();
    expect(state(pid)).toBe("Z");
    expect(processAlive(pid)).toBe(false);
    expect(writerAlive(pid, undefined)).toBe(false);
    expect(processAlive(parent?.pid as number)).toBe(true);
    expect(processAlive(process.pid)).toBe(true);
  });
});
