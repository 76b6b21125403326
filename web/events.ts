/**
 * The event stream (`GET /api/events`, server-sent events) for every connected page: `hello` on
 * connect, then `nodes` (the nodes whose version or sync moved since the last batch, at most every
 * 50 ms), `convergence` and `latency` (at most once a second, when they moved; `convergence` each
 * second while a live fleet's broker is away, its band running to now), `fleet` (when the
 * loss, the faults or a virtual run's pace change), `clock` (a virtual run's time and pace, every
 * 250 ms while it moves), `log`, and a `: ping` comment every 15 s. The timers are the scheduler's
 * the server is given: wall time, so a page is fed at the same cadence whatever pace a virtual run
 * goes at; the times in the frames are the fleet view's (`source.now()`, the run's own clock).
 * One pass builds each batch for all clients. A view that names the nodes that changed (`node`
 * events, `node(id)`) costs a pass only those nodes; for another (the demo) the pass compares the
 * whole snapshot with the last batch, and only after the view said something changed.
 * The last LOG_HISTORY log lines are kept whether or not a page is open, and each stream's `hello`
 * carries them: a page opened (or reconnected) after a broker restart or a node's loss shows it.
 * Each client has a bounded buffer: its socket's pending bytes; a client past the bound is dropped
 * (it reconnects and re-reads `/api/nodes`), the others are unaffected. All timers via the Scheduler.
 */
import type { ServerResponse } from "node:http";
import { every, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { ConsoleNode, ConsoleSource, LogLine } from "../view/source.js";
import { awayOf, type FleetKind, fleetOf, latencyOf, type NodeSummary, paceOf, summaryOf } from "./shapes.js";

export const BATCH_MS = 50;
const SLOW_MS = 1000;
export const PING_MS = 15_000;
/** How often a virtual run's time goes out (`clock`), while it moves. */
export const CLOCK_MS = 250;
/** A client with more than this many bytes not yet taken by its socket is dropped. */
export const CLIENT_BUFFER_BYTES = 1 << 20;
/**
 * Event streams open at once; one more is refused (503). With the per-client bound this bounds the
 * memory the streams can hold (100 MiB): 2,000 streams that never read held 300 MB more and stalled a
 * 1,000-node run's main thread for 7 s, on a loopback port where reads need no token.
 */
export const MAX_EVENT_CLIENTS = 100;
export const EVENT_STREAM_TYPE = "text/event-stream; charset=utf-8";
const LOG_LINES_PER_BATCH = 200;
/** Log lines kept for a page that opens later (`hello.log`): as many as the page keeps. */
export const LOG_HISTORY = 200;

/** A log line and its place in the order the fleet logged them. */
interface Numbered {
  readonly seq: number;
  readonly line: LogLine;
}

/** A log line as the stream sends it. */
type LogFrame = Pick<LogLine, "t" | "level" | "text">;

export interface StreamStats {
  clients: number;
  dropped: number;
  /** Batch passes (each after a change), the nodes the last one compared, and their time (ms). */
  passes: number;
  lastPassNodes: number;
  lastPassMs: number;
  maxPassMs: number;
  totalPassMs: number;
  /** Node summaries sent in `nodes` batches, all clients counted once. */
  nodesSent: number;
}

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  /** The streams opened without the token, oldest first: one makes room for a stream with it. */
  private readonly untrusted = new Set<ServerResponse>();
  private readonly timers: Timer[];
  private dirty = true;
  /** Nodes the view named as changed since the last batch (a view with `node` events). */
  private named = new Set<string>();
  private readonly byName: boolean;
  /** What the last batch (or the first client's baseline) showed, by node id: version and sync. */
  private shown = new Map<string, string>();
  /** The nodes gone from the view since the last batch, which the pages are told of. */
  private gone: string[] = [];
  /** Lines logged since the last batch, for the streams open (at most LOG_LINES_PER_BATCH). */
  private logs: Numbered[] = [];
  /** The last LOG_HISTORY lines logged, oldest first, streams open or not. */
  private history: Numbered[] = [];
  private logSeq = 0;
  private lastConvergence = "";
  private lastLatency = -1;
  private lastFleet = "";
  private lastClock = "";
  private readonly unlisten: (() => void)[];
  readonly stats: StreamStats = {
    clients: 0,
    dropped: 0,
    passes: 0,
    lastPassNodes: 0,
    lastPassMs: 0,
    maxPassMs: 0,
    totalPassMs: 0,
    nodesSent: 0,
  };

  private readonly bufferBytes: number;
  readonly maxClients: number;
  /** The `: ping` period, told to each page in `hello` (it takes 3 periods of silence as a lost stream). */
  readonly pingMs: number;
  private readonly catchUp: (() => readonly string[]) | undefined;

  constructor(
    private readonly source: ConsoleSource,
    private readonly kind: FleetKind,
    private readonly sched: Scheduler,
    limits: {
      bufferBytes?: number | undefined;
      maxClients?: number | undefined;
      pingMs?: number | undefined;
      /** The nodes a stream opened now gets right after `hello`: changed since the list it reads next. */
      catchUp?: (() => readonly string[]) | undefined;
    } = {},
  ) {
    this.bufferBytes = limits.bufferBytes ?? CLIENT_BUFFER_BYTES;
    this.maxClients = limits.maxClients ?? MAX_EVENT_CLIENTS;
    this.pingMs = limits.pingMs ?? PING_MS;
    this.catchUp = limits.catchUp;
    this.byName = typeof source.node === "function";
    this.unlisten = [
      source.on("changed", () => {
        this.dirty = true;
      }),
      source.on("node", (id) => {
        if (this.clients.size > 0) this.named.add(id);
      }),
      source.on("log", (line) => {
        const n = { seq: this.logSeq++, line };
        this.history.push(n);
        if (this.history.length > LOG_HISTORY) this.history.shift();
        if (this.clients.size > 0 && this.logs.length < LOG_LINES_PER_BATCH) this.logs.push(n);
      }),
    ];
    this.timers = [
      every(sched, BATCH_MS, () => this.batch()),
      every(sched, SLOW_MS, () => this.slow()),
      every(sched, this.pingMs, () => this.broadcast(": ping\n\n")),
      ...(source.capabilities.pace === true ? [every(sched, CLOCK_MS, () => this.clock())] : []),
    ];
  }

  /** No room for another stream: `attach` would take one over the bound. */
  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /**
   * Full, and a stream with the token asks: the oldest stream opened without it is ended to make room
   * (false when every stream has the token). A page left open, or a client that never reads, on a
   * quiet fleet, is sent too little ever to be cut as a slow reader: 100 of them, from anyone who
   * may read, used to keep the operator's page off the stream (503) for as long as they stayed.
   */
  makeRoom(): boolean {
    const oldest = this.untrusted.values().next();
    if (oldest.done === true) return false;
    this.cut(oldest.value);
    return true;
  }

  /**
   * Takes over `res` as an event stream: headers, `hello`, then the batches until it closes.
   * `trusted`: it was opened with the token (makeRoom never ends it).
   */
  attach(res: ServerResponse, trusted = true): void {
    res.writeHead(200, {
      "content-type": EVENT_STREAM_TYPE,
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    if (this.clients.size === 0) this.baseline();
    this.clients.add(res);
    if (!trusted) this.untrusted.add(res);
    this.stats.clients = this.clients.size;
    const gone = () => {
      this.clients.delete(res);
      this.untrusted.delete(res);
      this.stats.clients = this.clients.size;
    };
    res.on("close", gone);
    res.on("error", gone);
    this.send(
      res,
      frame("hello", { fleet: fleetOf(this.source, this.kind), pingMs: this.pingMs, log: this.logSoFar() }),
    );
    // The whole list may be kept a moment (list-body.ts): what changed since it was built comes now,
    // so the page that reads it next ends with the fleet as it is.
    const ids = this.catchUp?.() ?? [];
    if (ids.length === 0) return;
    const nodes: NodeSummary[] = [];
    const left: string[] = [];
    for (const id of ids) {
      const n = this.source.node?.(id as NodeId);
      if (n) nodes.push(summaryOf(n));
      else left.push(id);
    }
    this.send(res, frame("nodes", left.length > 0 ? { nodes, gone: left } : { nodes }));
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    for (const t of this.timers) t.cancel();
    for (const u of this.unlisten) u();
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.untrusted.clear();
    this.stats.clients = 0;
  }

  /** The nodes whose version or sync differ from the last batch; updates what was shown. */
  changedNodes(): NodeSummary[] {
    const out: NodeSummary[] = [];
    const look = (n: ConsoleNode) => {
      const key = `${n.version ?? 0}|${n.sync}|${n.on ? 1 : 0}|${n.online ? 1 : 0}|${n.kind ?? ""}`;
      if (this.shown.get(n.id) === key) return;
      this.shown.set(n.id, key);
      out.push(summaryOf(n));
    };
    if (this.byName) {
      this.source.settle?.(); // its `node` events land in `named` now
      const ids = this.named;
      this.named = new Set();
      for (const id of ids) {
        const n = this.source.node?.(id as NodeId);
        // A node gone from the view (forgotten for room at --max-nodes, or retired): what was shown
        // of it too, and the pages are told (`gone`).
        if (n) look(n);
        else if (this.shown.delete(id)) this.gone.push(id);
      }
      this.stats.lastPassNodes = ids.size;
    } else {
      const nodes = this.source.nodes();
      for (const n of nodes) look(n);
      if (this.shown.size > nodes.length) {
        const ids = new Set<string>(nodes.map((n) => n.id));
        for (const id of this.shown.keys()) if (!ids.has(id) && this.shown.delete(id)) this.gone.push(id);
      }
      this.stats.lastPassNodes = nodes.length;
    }
    return out;
  }

  /**
   * The lines kept, oldest first, but those waiting for the next batch: that batch brings them to
   * this stream too, and they would show twice.
   */
  private logSoFar(): LogFrame[] {
    const before = this.logs[0]?.seq ?? this.logSeq;
    const lines: LogFrame[] = [];
    for (const { seq, line } of this.history) if (seq < before) lines.push(logOf(line));
    return lines;
  }

  /** What the first client starts from: it reads the nodes as they are now. */
  private baseline(): void {
    this.shown = new Map();
    this.gone = [];
    this.named = new Set();
    if (!this.byName) this.changedNodes();
    this.lastFleet = JSON.stringify(fleetState(this.source));
  }

  private batch(): void {
    if (this.clients.size === 0) return;
    if (this.logs.length > 0) {
      const lines = this.logs;
      this.logs = [];
      this.broadcast(lines.map((l) => frame("log", logOf(l.line))).join(""));
    }
    if (!this.dirty) return;
    this.dirty = false;
    const t0 = this.sched.now();
    const changed = this.changedNodes();
    const ms = this.sched.now() - t0;
    const st = this.stats;
    st.passes++;
    st.lastPassMs = ms;
    st.maxPassMs = Math.max(st.maxPassMs, ms);
    st.totalPassMs += ms;
    st.nodesSent += changed.length;
    const gone = this.gone.splice(0);
    if (changed.length > 0 || gone.length > 0)
      this.broadcast(frame("nodes", gone.length > 0 ? { nodes: changed, gone } : { nodes: changed }));
    const fleet = JSON.stringify(fleetState(this.source));
    if (fleet !== this.lastFleet) {
      this.lastFleet = fleet;
      this.broadcast(frame("fleet", fleetOf(this.source, this.kind)));
    }
  }

  private slow(): void {
    if (this.clients.size === 0) return;
    const c = this.source.convergence();
    const now = this.source.now();
    // While the broker is away the band runs to now: a frame each second moves the chart's "now".
    const away = c.away === undefined ? undefined : awayOf(c.away);
    const last = away?.at(-1);
    const under = last !== undefined && last.to === undefined ? `|${now}` : "";
    const key = `${c.fraction}|${c.inSync}|${c.known}|${c.online}|${c.unheard}|${c.held}|${JSON.stringify(away)}${under}`;
    if (key !== this.lastConvergence) {
      this.lastConvergence = key;
      this.broadcast(
        frame("convergence", {
          fraction: c.fraction,
          inSync: c.inSync,
          known: c.known,
          ...(c.online !== undefined ? { online: c.online } : {}),
          ...(c.unheard !== undefined ? { unheard: c.unheard } : {}),
          ...(c.held === true ? { held: true } : {}),
          t: now,
          ...(away !== undefined ? { away } : {}),
        }),
      );
    }
    const l = this.source.latency();
    if (l.count !== this.lastLatency) {
      this.lastLatency = l.count;
      this.broadcast(frame("latency", latencyOf(l)));
    }
  }

  /** A virtual run's time and pace, when either moved since the last `clock`. */
  private clock(): void {
    if (this.clients.size === 0) return;
    const pace = paceOf(this.source);
    const now = this.source.now();
    const key = `${now}|${pace?.speed}|${pace?.paused}`;
    if (key === this.lastClock) return;
    this.lastClock = key;
    this.broadcast(frame("clock", { now, pace }));
  }

  private broadcast(text: string): void {
    for (const c of this.clients) this.send(c, text);
  }

  /** Writes to one client, or drops it when its buffer is past the bound (a reader that stopped). */
  private send(res: ServerResponse, text: string): void {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > this.bufferBytes) {
      this.cut(res);
      return;
    }
    res.write(text);
  }

  /** Ends one stream now (a reader that stopped, or one making room); counted as dropped. */
  private cut(res: ServerResponse): void {
    this.clients.delete(res);
    this.untrusted.delete(res);
    this.stats.clients = this.clients.size;
    this.stats.dropped++;
    res.destroy();
  }
}

function logOf(l: LogLine): LogFrame {
  return { t: l.t, level: l.level, text: l.text };
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** What a `fleet` event reports a change of: the loss, the faults and the pace. */
function fleetState(s: ConsoleSource): unknown {
  return { loss: s.lossPct() ?? null, faults: s.faults(), pace: paceOf(s) };
}
