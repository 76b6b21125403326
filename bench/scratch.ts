/**
 * A benchmark's temporary directories, removed however it ends: done, failed (an error, a child that
 * exited badly) or stopped by Ctrl-C, SIGTERM or SIGHUP. On a signal the child processes it started
 * are killed first, so none writes into a directory being removed, then what must be stopped in
 * order (a cluster's servers, onStop) is, and the bench exits with 130. Until then, an error the
 * stop itself causes (a shard killed, its run failing) waits for it (`stopping()`), rather than ending
 * the process first.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs = new Set<string>();
const children = new Set<ChildProcess>();
const stoppers = new Set<() => Promise<void>>();
let installed = false;
let stopped: Promise<void> | undefined;

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const CUT_SHORT_EXIT = 130;

/** A fresh directory under the system's temporary directory, named `<prefix>XXXXXX`. */
export function scratchDir(prefix: string): string {
  install();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Removes a directory of scratchDir() now (the ones left are removed when the process ends). */
export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  dirs.delete(dir);
}

/** A child process to kill (SIGKILL) if the bench is stopped by a signal; forgotten when it exits. */
export function trackChild<C extends ChildProcess>(child: C): C {
  install();
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/**
 * Something to stop, and wait for, if the bench is stopped by a signal (after its child processes
 * are killed): a process that must stop its own children, which a SIGKILL would leave running.
 * Returns the function that forgets it.
 */
export function onStop(stopper: () => Promise<void>): () => void {
  install();
  stoppers.add(stopper);
  return () => stoppers.delete(stopper);
}

/** The stop a signal began, which ends the process; undefined when none has. */
export function stopping(): Promise<void> | undefined {
  return stopped;
}

function removeAll(): void {
  for (const dir of [...dirs]) removeScratch(dir);
}

async function stop(): Promise<void> {
  const running = [...children];
  await Promise.all(
    running.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          c.kill("SIGKILL");
        }),
    ),
  );
  await Promise.all([...stoppers].map((stopOne) => stopOne().catch(() => {})));
  removeAll();
  process.exit(CUT_SHORT_EXIT);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", removeAll);
  for (const s of STOP_SIGNALS)
    process.on(s, () => {
      stopped ??= stop();
    });
}
