/**
 * A process that ended but is not reaped yet (a zombie: kill -9'd, its parent not waiting for it)
 * is not alive: signal 0 still reaches it, and a twins service's lock it held stopped the next
 * start on "in use by another twins service". A real zombie: `true` forked by a shell that then
 * becomes `sleep`, which never reaps it (Linux only: /proc tells the state).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
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

/** A zombie's pid: its parent, a `sleep`, lives on without reaping it. */
async function zombie(): Promise<number> {
  parent = spawn("sh", ["-c", "true & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "inherit"] });
  const out = parent.stdout;
  if (!out) throw new Error("no stdout");
  const pid = await new Promise<number>((resolve) => out.once("data", (b: Buffer) => resolve(Number(b))));
  // `true` exits on its own; its state turns Z once it has (bounded: 10 s of a loaded host).
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
