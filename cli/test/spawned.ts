/**
 * `twinfleet` in processes of their own for one test file: each one's output so far and how it
 * ended, and scratch directories; `cleanUp()` (after each test) kills what still runs and removes
 * the directories.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../console/test/tmux.js";
import { cliArgs } from "../../node/test/cli-command.js";

/** A started `twinfleet`: its process, its stdout and stderr so far, and its end once it has. */
export interface Started {
  readonly child: ChildProcess;
  out(): string;
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class Spawned {
  private readonly children: ChildProcess[] = [];
  private readonly dirs: string[] = [];

  constructor(private readonly prefix: string) {}

  /** `twinfleet …args`; `stdin: "ignore"` gives it none. */
  twinfleet(args: readonly string[], stdin: "pipe" | "ignore" = "pipe"): Started {
    const child = spawn(process.execPath, [...cliArgs(), ...args], {
      cwd: ROOT,
      stdio: [stdin, "pipe", "pipe"],
    });
    this.children.push(child);
    let out = "";
    const add = (d: Buffer) => {
      out += d.toString();
    };
    child.stdout?.on("data", add);
    child.stderr?.on("data", add);
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    return { child, out: () => out, ended };
  }

  /** A fresh directory, removed by `cleanUp`. */
  async scratch(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `twinfleet-${this.prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  async cleanUp(): Promise<void> {
    for (const c of this.children.splice(0))
      if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const d of this.dirs.splice(0)) await rm(d, { recursive: true, force: true });
  }
}
