/**
 * The embedded broker, run in a worker thread of its own (broker/worker.ts) so that it and the
 * main thread's twins service, collector and console do not wait on each other. The twins and tools
 * reach it over loopback TCP at `url`; the fleet's node threads over in-memory ports (link()), which
 * use no file descriptor. kill() is the in-process kill -9: every stream and socket cut, nothing more
 * sent or stored; start() brings it back on the same port and store. stats() and the thread's lag
 * are the latest the thread reported (every STATS_EVERY_MS).
 */
import { MessageChannel, type MessagePort, type ResourceLimits, Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type {
  BrokerThreadData,
  BrokerThreadReply,
  BrokerThreadRequest,
  BrokerThreadStats,
} from "../broker/worker.js";
import type { HeapReading } from "../node/heap-live.js";
import { processRssMB } from "../node/rss.js";
import { assertNever } from "../protocol/index.js";
import type { BrokerHost, BrokerStats } from "./broker-host.js";
import { relayBrokerLine } from "./broker-log.js";
import { threadSource } from "./thread-source.js";

type Request = BrokerThreadRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, "id">
    : never
  : never;

export class BrokerThreadHost implements BrokerHost {
  readonly kind = "embedded";
  readonly restartable = true;
  private readonly worker: Worker;
  private port = 0;
  private running = false;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (port?: number) => void; reject: (e: Error) => void }
  >();
  private last: BrokerThreadStats | undefined;
  private exited: Error | undefined;
  private readonly exit: Promise<void>;
  /** What the thread died of (its 'error' event: out of memory, an uncaught error). */
  private error: Error | undefined;
  private closing = false;
  private died: ((e: Error) => void) | undefined;

  /** `resourceLimits`: the thread's own heap limits (V8's, as the process's, when absent). */
  constructor(
    private readonly dataDir: string | undefined,
    private readonly logger: Logger,
    resourceLimits?: ResourceLimits,
  ) {
    const data: BrokerThreadData = { logLevel: logger.level };
    this.worker = new Worker(threadSource("broker/worker"), {
      eval: true,
      workerData: data,
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    this.worker.on("message", (m: BrokerThreadReply) => this.onReply(m));
    this.worker.on("error", (err) => {
      this.error = err;
      if (this.died === undefined) this.logger.error({ err }, "broker thread error");
    });
    this.exit = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        this.exited = this.error ?? new Error(`the broker thread exited (code ${code})`);
        for (const p of this.pending.values()) p.reject(this.exited);
        this.pending.clear();
        if (!this.closing) this.died?.(this.exited);
        resolve();
      }),
    );
  }

  /**
   * Hears of the thread's death before close() (out of memory, an uncaught error, the thread ended):
   * the broker is gone for good, with everything it held. Its 'error' is then told only here.
   */
  onDied(listener: (e: Error) => void): void {
    this.died = listener;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const port = await this.request({
      type: "start",
      port: this.port,
      ...(this.dataDir !== undefined ? { dataDir: this.dataDir } : {}),
    });
    if (port !== undefined) this.port = port;
    this.running = true;
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.request({ type: "kill" });
  }

  /**
   * A new in-memory transport to the broker thread: the returned port goes to a node thread (for
   * node/port-wire.ts); its streams show to the broker as coming from `address`.
   */
  link(address: string): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const m: BrokerThreadRequest = { type: "attach", port: port1, address };
    this.worker.postMessage(m, [port1]);
    return port2;
  }

  stats(): BrokerStats {
    return {
      clients: this.last?.clients ?? 0,
      messagesIn: this.last?.messagesIn ?? 0,
      messagesOut: this.last?.messagesOut ?? 0,
    };
  }

  /** The broker thread's event-loop lag as it last reported it (cumulative since it started). */
  lag(): { p99Ms: number; maxMs: number; recentP99Ms: number; heap?: HeapReading } | undefined {
    const l = this.last;
    if (!l) return undefined;
    return {
      p99Ms: l.lagP99Ms,
      maxMs: l.lagMaxMs,
      recentP99Ms: l.lagRecentP99Ms,
      ...(l.heap ? { heap: l.heap } : {}),
    };
  }

  /** Threads share the process: its resident memory. */
  rssMB(): number | undefined {
    return processRssMB();
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.exited) {
      await this.request({ type: "close" }).catch((err: Error) =>
        this.logger.warn({ err: err.message }, "broker thread close"),
      );
      await this.worker.terminate();
    }
    await this.exit;
  }

  private request(r: Request): Promise<number | undefined> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...r, id } as BrokerThreadRequest);
    });
  }

  private onReply(m: BrokerThreadReply): void {
    switch (m.type) {
      case "stats":
        this.last = m;
        return;
      case "log":
        this.log(m.line);
        return;
      case "done": {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.port);
        return;
      }
      default:
        assertNever(m);
    }
  }

  /** A pino line from the thread, logged here at its level (its own time and pid dropped). */
  private log(line: string): void {
    relayBrokerLine(this.logger, line);
  }
}
