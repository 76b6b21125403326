/**
 * The embedded broker's own thread: runs startBroker (TCP listener on loopback for the twins service,
 * the console and tools) and the in-memory transport's listener for the node threads' ports
 * (broker/port-listener.ts), obeys start / kill / close from the thread that made it, and reports its
 * clients, messages and event-loop lag every STATS_EVERY_MS. Its log records go to that thread's
 * logger. The protocol is BrokerThreadRequest / BrokerThreadReply below.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads";
import { type Level, pino } from "pino";
import { HeapLive, type HeapReading } from "../node/heap-live.js";
import { RecentLag } from "../node/recent-lag.js";
import { assertNever } from "../protocol/index.js";
import { PortListener } from "./port-listener.js";
import { type RunningBroker, startBroker } from "./server.js";

export const STATS_EVERY_MS = 500;

export type BrokerThreadRequest =
  | { readonly type: "start"; readonly id: number; readonly port: number; readonly dataDir?: string }
  | { readonly type: "kill"; readonly id: number }
  | { readonly type: "close"; readonly id: number }
  /** A client thread's end of a transport port (transferred), its streams shown as from `address`. */
  | { readonly type: "attach"; readonly port: MessagePort; readonly address: string };

export interface BrokerThreadStats {
  readonly type: "stats";
  readonly clients: number;
  readonly messagesIn: number;
  /** PUBLISH packets the broker wrote to clients (deliveries), across restarts. */
  readonly messagesOut: number;
  /** Streams open on the in-memory transport. */
  readonly streams: number;
  /** Event-loop lag since the thread started: p99 and max. */
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** Event-loop lag p99 since its previous stats: the lag now, for /metrics. */
  readonly lagRecentP99Ms: number;
  /** Its JS heap after its last full collection, and its limit. */
  readonly heap?: HeapReading;
}

export type BrokerThreadReply =
  | { readonly type: "done"; readonly id: number; readonly port?: number; readonly error?: string }
  | BrokerThreadStats
  | { readonly type: "log"; readonly line: string };

export interface BrokerThreadData {
  readonly logLevel: string;
}

class BrokerThread {
  private broker: RunningBroker | undefined;
  private messagesIn = 0;
  /** Deliveries by the brokers before the running one (each restart starts a new count). */
  private messagesOutBefore = 0;
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });
  /** The same since the last stats only. */
  private readonly recentLag = new RecentLag();
  private readonly heap = new HeapLive();
  private readonly timer: NodeJS.Timeout;
  private readonly logger;
  private readonly listener: PortListener;

  constructor(
    private readonly parent: MessagePort,
    data: BrokerThreadData,
  ) {
    const post = (m: BrokerThreadReply) => parent.postMessage(m);
    this.logger = pino(
      { level: data.logLevel as Level },
      { write: (line: string) => post({ type: "log", line }) },
    );
    this.listener = new PortListener((err, address) =>
      this.logger.error({ address, err: err.message }, "transport port cut: bad batch"),
    );
    this.lag.enable();
    this.timer = setInterval(() => post(this.stats()), STATS_EVERY_MS);
    parent.on("message", (m: BrokerThreadRequest) => void this.on(m));
  }

  private stats(): BrokerThreadStats {
    return {
      type: "stats",
      clients: this.broker?.aedes.connectedClients ?? 0,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOutBefore + (this.broker?.traffic.publishesOut ?? 0),
      streams: this.listener.streams,
      lagP99Ms: this.lag.percentile(99) / 1e6,
      lagMaxMs: this.lag.max / 1e6,
      lagRecentP99Ms: this.recentLag.takeP99Ms(),
      heap: this.heap.read(),
    };
  }

  private async on(m: BrokerThreadRequest): Promise<void> {
    if (m.type === "attach") {
      this.listener.attach(m.port, m.address);
      return;
    }
    let reply: BrokerThreadReply;
    try {
      reply = { type: "done", id: m.id, ...(await this.run(m)) };
    } catch (e) {
      reply = { type: "done", id: m.id, error: e instanceof Error ? e.message : String(e) };
    }
    this.parent.postMessage(this.stats());
    this.parent.postMessage(reply);
    if (m.type === "close") {
      clearInterval(this.timer);
      this.lag.disable();
      this.recentLag.stop();
      this.heap.stop();
      this.parent.close();
    }
  }

  private async run(m: Exclude<BrokerThreadRequest, { type: "attach" }>): Promise<{ port?: number }> {
    switch (m.type) {
      case "start": {
        if (this.broker) return { port: this.broker.port };
        const b = await startBroker({
          host: "127.0.0.1",
          port: m.port,
          logger: this.logger,
          ...(m.dataDir !== undefined ? { dataDir: m.dataDir } : {}),
        });
        b.aedes.on("publish", (_packet, client) => {
          if (client) this.messagesIn++;
        });
        this.broker = b;
        this.listener.listen((stream, address) => b.accept(stream, address));
        return { port: b.port };
      }
      case "kill": {
        // The transport first: every stream is cut and nothing queued for it is sent, as the
        // sockets of a process killed with -9.
        this.listener.cut();
        await this.detach()?.kill();
        return {};
      }
      case "close": {
        this.listener.close();
        await this.detach()?.close();
        return {};
      }
      default:
        return assertNever(m);
    }
  }

  /** The running broker, let go: its deliveries are carried into the count across restarts. */
  private detach(): RunningBroker | undefined {
    const b = this.broker;
    this.broker = undefined;
    this.messagesOutBefore += b?.traffic.publishesOut ?? 0;
    return b;
  }
}

if (!isMainThread && parentPort) new BrokerThread(parentPort, workerData as BrokerThreadData);
