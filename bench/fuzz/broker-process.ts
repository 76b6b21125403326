/**
 * `twinfleet broker` in a child process for the fuzz soak, started as a user starts it, so that a
 * crash shows as the process exiting and its resident memory can be read from /proc. Counts the
 * log lines it writes at error level or above (pino JSON on stdout) without parsing each one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cpuSeconds, rssMB } from "../proc-cpu.js";

export interface BrokerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last of what it wrote on stderr, for the report. */
  readonly stderrTail: string;
}

const START_TIMEOUT_MS = 30_000;

export class BrokerProcess {
  port = 0;
  /** Log lines at level error (50) or fatal (60). */
  errorLines = 0;
  /** The first few of them, as written. */
  readonly errorSamples: string[] = [];
  /** Set when the process exits, whoever ended it. */
  exit: BrokerExit | undefined;
  private stopping = false;
  private stderrTail = "";
  private readonly exited: Promise<void>;

  /** Called when the process exits without stop(): while starting, a failed start; then a crash. */
  private onCrash: (exit: BrokerExit) => void = () => {};

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exit = { code, signal, stderrTail: this.stderrTail.slice(-2000) };
        if (!this.stopping) this.onCrash(this.exit);
        resolve();
      });
    });
    // The broker logs JSON lines on stderr (--log-format json): count the error-level ones.
    let partial = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.includes('"level":50') && !line.includes('"level":60')) continue;
        this.errorLines++;
        if (this.errorSamples.length < 10) this.errorSamples.push(line.slice(0, 1000));
      }
    });
  }

  /**
   * Starts `twinfleet broker --host 127.0.0.1 --port 0 …extraArgs` from dist/ when `fromDist`
   * (after `npm run build`), else from the TypeScript sources under tsx, and waits until it listens.
   */
  static async start(
    extraArgs: readonly string[],
    fromDist: boolean,
    onCrash: (exit: BrokerExit) => void,
    /** Flags for node itself, e.g. --cpu-prof to see where the broker's time goes. */
    nodeArgs: readonly string[] = [],
  ): Promise<BrokerProcess> {
    const dist = new URL("../../dist/cli/bin.js", import.meta.url).pathname;
    if (fromDist && !existsSync(dist)) throw new Error(`--dist: ${dist} is missing (run npm run build)`);
    const entry = fromDist
      ? [dist]
      : ["--import", "tsx", new URL("../../cli/bin.ts", import.meta.url).pathname];
    const args = [
      ...nodeArgs,
      ...entry,
      "--log-format",
      "json",
      "broker",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...extraArgs,
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let failed: ((why: string) => void) | undefined;
    const broker = new BrokerProcess(child);
    broker.onCrash = (exit) =>
      failed?.(`exited (code ${exit.code}, signal ${exit.signal}): ${exit.stderrTail.trim().slice(-400)}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => failed?.(`no "listening" within ${START_TIMEOUT_MS} ms`),
        START_TIMEOUT_MS,
      );
      failed = (why) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`the broker did not start: ${why}`));
      };
      const onData = () => {
        // "twinfleet broker listening on 127.0.0.1:41873 (mqtt://127.0.0.1:41873)" (cli/bind.ts)
        const m = /listening on \S*:(\d+) \(mqtt:\/\//.exec(broker.stderrTail);
        if (!m) return;
        clearTimeout(timer);
        child.stderr?.off("data", onData);
        broker.port = Number(m[1]);
        resolve();
      };
      child.stderr?.on("data", onData);
    });
    // From here on an exit nobody asked for is a crash.
    broker.onCrash = onCrash;
    return broker;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resident memory in MB (VmRSS), or undefined once the process is gone. */
  rssMB(): number | undefined {
    return this.exit || this.child.pid === undefined ? undefined : rssMB(this.child.pid);
  }

  /** CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat. */
  cpuSeconds(): number | undefined {
    return this.exit || this.child.pid === undefined ? undefined : cpuSeconds(this.child.pid);
  }

  /** SIGTERM (a clean close), then SIGKILL if it has not exited within `ms`. */
  async stop(ms = 10_000): Promise<void> {
    this.stopping = true;
    if (this.exit) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    await this.exited;
    clearTimeout(timer);
  }
}
