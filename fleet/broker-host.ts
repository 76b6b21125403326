/**
 * The broker a fleet run talks to, and whether the run may restart it: the embedded broker in a
 * thread of this process (fleet/broker-thread.ts), a `twinfleet broker` child process the run
 * started itself (so a restart is a real SIGKILL and a respawn on the same port and data directory,
 * as an operator's broker dies), or someone else's broker at a URL, which the run never restarts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { MessagePort } from "node:worker_threads";
import type { Logger } from "pino";
import { startable } from "../node/paths.js";
import { after, type Scheduler } from "../node/scheduler.js";
import { relayBrokerLine, WARN_LEVEL } from "./broker-log.js";
import { BrokerThreadHost } from "./broker-thread.js";
import { OUT_OF_MEMORY_REASON, saysOutOfMemory } from "./thread-death.js";

/** `memory`: the in-memory broker of a virtual-time run (fleet/virtual.ts). */
export type BrokerKind = "embedded" | "process" | "external" | "memory";

export interface BrokerHost {
  readonly kind: BrokerKind;
  /** `mqtt://host:port`, the same across restarts. */
  readonly url: string;
  /** Where the nodes connect, when not at `url` (real-loss mode: an address whose packets are dropped). */
  readonly nodeUrl?: string;
  /** Whether `kill` and `start` may be used (not for someone else's broker). */
  readonly restartable: boolean;
  /** Dies at once, as under `kill -9`: sockets cut, no last wills, nothing more written. */
  kill(): Promise<void>;
  /** Starts again on the same port with the same store. */
  start(): Promise<void>;
  /** Resident memory of the broker in MB, when it can be read (its own process, or this one). */
  rssMB(): number | undefined;
  /** Its clients and the messages clients published to it, where it runs in this process. */
  stats?(): BrokerStats;
  /**
   * The embedded broker only: an in-memory transport to it for a node thread (node/port-wire.ts),
   * instead of a TCP socket per node; its streams show to the broker as from `address`.
   */
  link?(address: string): MessagePort;
  /** Event-loop lag of the broker's own thread, when it runs in one of this process. */
  lag?(): { p99Ms: number; maxMs: number } | undefined;
  /** Hears of the death of its thread (one of this process), or of its process out of memory, before close() (fleet/thread-death.ts). */
  onDied?(listener: (e: Error) => void): void;
  close(): Promise<void>;
}

export interface BrokerStats {
  /** Clients connected now. */
  readonly clients: number;
  /** PUBLISH packets taken in from clients, across restarts. */
  readonly messagesIn: number;
  /** PUBLISH packets it wrote to clients (deliveries), across restarts, where it counts them. */
  readonly messagesOut?: number;
}

export interface BrokerHostOptions {
  /** A URL: use that broker as it is. */
  readonly url?: string;
  /** Run `twinfleet broker` in a child process instead of in this one. */
  readonly process?: boolean;
  /** Keep the broker's store here (LevelDB), across restarts; in memory (lost on restart) otherwise. */
  readonly dataDir?: string;
  readonly logger: Logger;
  /** The run's clock, for the child process's start-up bound. */
  readonly scheduler: Scheduler;
}

export async function openBrokerHost(o: BrokerHostOptions): Promise<BrokerHost> {
  if (o.url !== undefined) return externalBroker(o.url);
  const host = o.process
    ? new ProcessBroker(o.dataDir, o.scheduler, LOCAL, o.logger)
    : new BrokerThreadHost(o.dataDir, o.logger);
  // A thread whose broker did not start (its data directory full, or a file) is let go: left
  // running, it kept the run's process alive after the error was printed.
  await host.start().catch(async (e: unknown) => {
    await host.close();
    throw e;
  });
  return host;
}

/**
 * Whether a run's nodes reach its broker over TCP (a socket each): an external broker, one in its own
 * process, or the kernel-loss namespace's. An embedded broker thread gives them in-memory ports.
 */
export function nodesOverTcp(o: {
  readonly broker?: string | undefined;
  readonly brokerProcess?: boolean;
  readonly lossMode?: string;
}): boolean {
  return o.broker !== undefined || o.brokerProcess === true || o.lossMode === "kernel";
}

function externalBroker(url: string): BrokerHost {
  const refuse = () =>
    Promise.reject(
      new Error(
        `the broker at ${url} is not the fleet's own: restart it yourself, or let the fleet start one (--broker-process)`,
      ),
    );
  return {
    kind: "external",
    url,
    restartable: false,
    kill: refuse,
    start: refuse,
    rssMB: () => undefined,
    close: async () => {},
  };
}

/** The CLI of this package: JavaScript from dist/, or the TypeScript sources under tsx (tests). */
function cliEntry(): { file: string; execArgv: string[] } {
  const cli = startable("cli/bin");
  return { file: fileURLToPath(cli.url), execArgv: [...cli.execArgv] };
}

/**
 * How long a spawned broker may take to say it listens. One that dies is seen at its exit; this only
 * bounds a start that hangs, so it is generous: from the TypeScript sources (tsx) on a loaded host a
 * start took over 20 s.
 */
const START_TIMEOUT_MS = 60_000;

/**
 * Where a broker process runs: the command in front of node (e.g. `ip netns exec NS`, real-loss
 * mode, fleet/kernel-loss.ts), the address it listens on, and the one its URL names.
 */
export interface BrokerPlace {
  readonly prefix: readonly string[];
  readonly listen: string;
  readonly urlHost: string;
  /**
   * A network only this run reaches (the kernel-loss namespace): the broker's warning that it listens
   * beyond loopback without --auth is not the run's to pass on there.
   */
  readonly private?: boolean;
}

/** The start of the broker's warning for a listener beyond loopback (cli/bind.ts). */
const EXPOSED = "listening beyond loopback";

const LOCAL: BrokerPlace = { prefix: [], listen: "127.0.0.1", urlHost: "127.0.0.1" };

export class ProcessBroker implements BrokerHost {
  readonly kind = "process";
  readonly restartable = true;
  private child: ChildProcess | undefined;
  private port_ = 0;
  /** Its stderr said its JS heap ran out (V8's fatal error), since its last start. */
  private outOfMemory = false;
  private readonly deathListeners: ((e: Error) => void)[] = [];

  /**
   * `logger` logs the warnings and errors the process writes once it listens (its full data directory,
   * its limits): they were read until then and thrown away after.
   */
  constructor(
    private readonly dataDir: string | undefined,
    private readonly sched: Scheduler,
    private readonly place: BrokerPlace = LOCAL,
    private readonly logger?: Logger,
  ) {}

  get url(): string {
    return `mqtt://${this.place.urlHost}:${this.port_}`;
  }

  /** The port it listens on (0 before its first start). */
  get port(): number {
    return this.port_;
  }

  start(): Promise<void> {
    if (this.child) return Promise.resolve();
    const { file, execArgv } = cliEntry();
    const args = [
      ...execArgv,
      file,
      "--log-format",
      "json",
      "broker",
      "--host",
      this.place.listen,
      "--port",
      String(this.port_),
      ...(this.dataDir !== undefined ? ["--data", this.dataDir] : []),
      // Its stdin is a pipe this process never writes to: the kernel closes it when this process
      // dies, however it dies, and the broker then stops instead of holding the port and the data
      // directory's lock for the next run.
      "--exit-on-stdin-close",
    ];
    const [command, ...before] = [...this.place.prefix, process.execPath];
    const child = spawn(command as string, [...before, ...args], { stdio: ["pipe", "ignore", "pipe"] });
    this.child = child;
    this.outOfMemory = false;
    return new Promise((resolve, reject) => {
      let text = "";
      const fail = (why: string) => {
        timer.cancel();
        child.kill("SIGKILL");
        this.child = undefined;
        reject(new Error(`the broker process did not start: ${why}`));
      };
      const timer = after(this.sched, START_TIMEOUT_MS, () =>
        fail(`no "listening" within ${START_TIMEOUT_MS} ms`),
      );
      const onData = (chunk: Buffer) => {
        text += chunk.toString("utf8");
        // "twinfleet broker listening on 127.0.0.1:41873 (mqtt://127.0.0.1:41873)" (cli/bind.ts)
        const m = /listening on \S*:(\d+) \(mqtt:\/\//.exec(text);
        if (!m) return;
        timer.cancel();
        child.stderr?.off("data", onData);
        // Drained (or a chatty broker blocks on a full pipe), its warnings logged from the line after.
        this.relay(child, text.slice(text.indexOf("\n", m.index) + 1));
        child.off("exit", onExit);
        child.once("exit", (code, signal) => this.died(child, code, signal));
        this.port_ = Number(m[1]);
        resolve();
      };
      // Out of memory (V8's fatal error, then SIGABRT) it said so, not `exited with null` and the
      // tail of V8's native stack trace.
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
        if (saysOutOfMemory(text))
          fail(`${OUT_OF_MEMORY_REASON}, ${how}; give it more heap: NODE_OPTIONS=--max-old-space-size=MB`);
        else fail(`${how}: ${text.trim().slice(-400)}`);
      };
      child.stderr?.on("data", onData);
      child.once("exit", onExit);
    });
  }

  /** Logs the process's warnings and errors from `rest` (what it wrote after "listening") on. */
  private relay(child: ChildProcess, rest: string): void {
    let partial = "";
    const lines = (chunk: string) => {
      const all = (partial + chunk).split("\n");
      partial = all.pop() ?? "";
      for (const line of all) {
        if (saysOutOfMemory(line)) this.outOfMemory = true;
        if (this.logger && !(this.place.private === true && line.includes(EXPOSED)))
          relayBrokerLine(this.logger, line, WARN_LEVEL);
      }
    };
    lines(rest);
    child.stderr?.on("data", (chunk: Buffer) => lines(chunk.toString("utf8")));
    child.stderr?.once("end", () => lines("\n"));
  }

  /**
   * The process exited without being asked (an operator's `kill -9`, the OOM killer, a crash): it is
   * gone, so a close or a kill has nothing to wait for and a start spawns it again. Both used to wait
   * for an exit that had already happened (a process killed by a signal has no exit code): the run
   * hung on its close and Node ended it with exit code 13, no summary and no report.
   */
  private died(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    // V8's last words on its stderr: it ran out of memory (SIGABRT alone said nothing of why).
    const why = this.outOfMemory
      ? `${OUT_OF_MEMORY_REASON}, ${how}; give it more heap: NODE_OPTIONS=--max-old-space-size=MB, or run fewer nodes`
      : how;
    this.logger?.error(
      { pid: child.pid, ...(signal !== null ? { signal } : { code }), outOfMemory: this.outOfMemory },
      `the broker process exited by itself (${why}): the run does not start it again, only a broker-restart fault does`,
    );
    // Out of memory it would die again at once: the run ends there (fleet/thread-death.ts).
    if (this.outOfMemory)
      for (const l of this.deathListeners) l(new Error(`${how}: JavaScript heap out of memory`));
  }

  /** Hears of the process dying out of memory (a kill, or a crash, is a broker outage the run measures). */
  onDied(listener: (e: Error) => void): void {
    this.deathListeners.push(listener);
  }

  /** The process's id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || hasExited(child)) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  rssMB(): number | undefined {
    const pid = this.child?.pid;
    if (pid === undefined) return undefined;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m ? Number(m[1]) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || hasExited(child)) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }
}

/** Whether a child has exited, by itself or by a signal (then its exit code is null). */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
