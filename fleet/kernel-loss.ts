/**
 * Real-loss mode (`--loss-mode kernel`): the run's broker as its own process inside a fresh network
 * namespace, reached over a veth pair, with nftables dropping the nodes' packets at random on its
 * port, so the kernel's TCP (not the link model) loses and retransmits. The nodes reach the broker
 * at one address of the namespace, whose packets are dropped; the twins service and the run's tools
 * at another, never dropped. This module owns the namespace's life: stale ones of killed runs
 * removed at start, the loss rewritten atomically (`nft -f -`) when the run's loss changes, the drop
 * counters read back, and the namespace removed on close, on an error, and at process exit.
 * The pure parts (names, rulesets, parsing) are in fleet/kernel-loss-rules.ts.
 */
import { execFile, execFileSync } from "node:child_process";
import type { Logger } from "pino";
import { processAlive } from "../node/process-alive.js";
import type { Scheduler } from "../node/scheduler.js";
import { type BrokerHost, ProcessBroker } from "./broker-host.js";
import {
  cleanupCommands,
  type KernelDrops,
  type KernelNet,
  NFT_TABLE,
  nftSetLoss,
  nftSetup,
  parseCounters,
  planKernelNet,
  setupCommands,
  staleNamespaces,
} from "./kernel-loss-rules.js";

/** Whether `cmd args` runs and exits 0 (its output is dropped). */
export function commandWorks(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** What this machine lacks for real-loss mode (root, `ip`, `nft`), or undefined when it has it all. */
export function kernelLossProblem(): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (network namespaces and nftables need it)");
  if (!commandWorks("ip", ["-V"])) missing.push("`ip` (iproute2)");
  if (!commandWorks("nft", ["--version"])) missing.push("`nft` (nftables)");
  if (missing.length === 0) return undefined;
  return `--loss-mode kernel needs ${missing.join(", ")}; run as root with iproute2 and nftables installed, or use --loss-mode model`;
}

function ip(args: readonly string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Kills what still runs in `netns` (a broker orphaned by a kill -9) and removes it; never throws. */
function removeNetns(netns: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", netns], { encoding: "utf8" });
    for (const p of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), "SIGKILL");
      } catch {
        // already gone
      }
    }
  } catch {
    // no such namespace
  }
  for (const c of cleanupCommands(netns)) {
    try {
      ip(c);
    } catch {
      // already removed
    }
  }
}

/** Removes the namespaces of kernel-loss runs whose process is gone; returns their names. */
export function removeStaleNamespaces(): string[] {
  let list = "";
  try {
    list = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  } catch {
    return [];
  }
  const stale = staleNamespaces(list, processAlive);
  for (const ns of stale) removeNetns(ns);
  return stale;
}

let seq = 0;
/** Namespaces this process has open: removed at exit whatever the way out. */
const open = new Set<string>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function removeAll(): void {
  for (const ns of open) removeNetns(ns);
  open.clear();
}

/**
 * A signal that would end the process without 'exit' (nobody else listens for it: Ctrl-C before
 * `sim` has its own handler, SIGTERM, SIGHUP): remove the namespaces, then end as the signal would.
 * Where someone else handles it (`sim`'s Ctrl-C settles the run), the run closes them itself.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  removeAll();
  unhook();
  process.kill(process.pid, signal);
}

function hook(): void {
  if (open.size > 0) return;
  process.on("exit", removeAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  process.off("exit", removeAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** A kernel-loss run's namespace and rules. */
export class KernelLossNet {
  private port = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(readonly net: KernelNet) {}

  /** Builds a fresh namespace (after removing stale ones); throws naming what failed, leaving nothing behind. */
  static create(logger?: Logger): KernelLossNet {
    const problem = kernelLossProblem();
    if (problem) throw new Error(problem);
    const stale = removeStaleNamespaces();
    if (stale.length > 0) logger?.warn({ stale }, "removed network namespaces left by killed runs");
    const used = execFileSync("ip", ["-4", "-o", "addr", "show"], { encoding: "utf8" })
      .split("\n")
      .map((l) => /inet (\S+)/.exec(l)?.[1] ?? "");
    const net = planKernelNet(process.pid, seq++, used);
    hook();
    open.add(net.netns);
    const k = new KernelLossNet(net);
    try {
      for (const c of setupCommands(net)) {
        try {
          ip(c);
        } catch (e) {
          const err = (e as { stderr?: Buffer }).stderr?.toString().trim();
          throw new Error(`--loss-mode kernel: \`ip ${c.join(" ")}\` failed: ${err || (e as Error).message}`);
        }
      }
    } catch (e) {
      k.close();
      throw e;
    }
    return k;
  }

  /** `ip netns exec NS`: the command a process runs under to live in the namespace. */
  get prefix(): string[] {
    return ["ip", "netns", "exec", this.net.netns];
  }

  /** Puts the drop rules on `port` at `pct` % (once the broker listens on it). */
  install(port: number, pct: number): void {
    this.port = port;
    this.nft(nftSetup(this.net, port, pct));
  }

  /**
   * Changes the loss: one atomic `nft -f -` transaction, queued behind any change still being made
   * so they land in order. The promise rejects with nft's error.
   */
  setLoss(pct: number): Promise<void> {
    const text = nftSetLoss(this.net, this.port, pct);
    const next = this.chain.then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (this.closed) return resolve();
          const child = execFile(
            "ip",
            ["netns", "exec", this.net.netns, "nft", "-f", "-"],
            (err, _out, stderr) =>
              err ? reject(new Error(`nft: ${String(stderr).trim() || err.message}`)) : resolve(),
          );
          child.stdin?.end(text);
        }),
    );
    this.chain = next.catch(() => {});
    return next;
  }

  /** Packets seen and dropped each way so far (undefined once closed). */
  drops(): KernelDrops | undefined {
    if (this.closed) return undefined;
    const out = execFileSync(
      "ip",
      ["netns", "exec", this.net.netns, "nft", "-j", "list", "counters", "table", "inet", NFT_TABLE],
      { encoding: "utf8" },
    );
    return parseCounters(out);
  }

  /** Removes the namespace, its veth pair and its rules (and anything still running inside). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    removeNetns(this.net.netns);
    open.delete(this.net.netns);
    if (open.size === 0) unhook();
  }

  private nft(text: string): void {
    try {
      execFileSync("ip", ["netns", "exec", this.net.netns, "nft", "-f", "-"], {
        input: text,
        stdio: ["pipe", "ignore", "pipe"],
      });
    } catch (e) {
      const err = (e as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`--loss-mode kernel: nft refused the ruleset: ${err || (e as Error).message}`);
    }
  }
}

/** The run's broker as a process in a kernel-loss namespace; closing it removes the namespace. */
export class KernelBroker implements BrokerHost {
  readonly kind = "process";
  readonly restartable = true;

  private constructor(
    private readonly inner: ProcessBroker,
    readonly loss: KernelLossNet,
  ) {}

  /** Starts the namespace and the broker in it, the rules at `pct` %; nothing is left behind on failure. */
  static async start(
    dataDir: string | undefined,
    sched: Scheduler,
    pct: number,
    logger?: Logger,
  ): Promise<KernelBroker> {
    const loss = KernelLossNet.create(logger);
    try {
      const place = { prefix: loss.prefix, listen: "0.0.0.0", urlHost: loss.net.controlAddr, private: true };
      const inner = new ProcessBroker(dataDir, sched, place, logger);
      await inner.start();
      loss.install(inner.port, pct);
      return new KernelBroker(inner, loss);
    } catch (e) {
      loss.close();
      throw e;
    }
  }

  /** The twins service and the run's tools: an address whose packets are never dropped. */
  get url(): string {
    return this.inner.url;
  }

  /** The nodes: the address whose packets nftables drops. */
  get nodeUrl(): string {
    return `mqtt://${this.loss.net.nodesAddr}:${this.inner.port}`;
  }

  kill(): Promise<void> {
    return this.inner.kill();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  rssMB(): number | undefined {
    return this.inner.rssMB();
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.loss.close();
    }
  }
}
