/**
 * Test helpers for the web server: requests over real sockets (fetch), an event-stream reader that
 * resolves on the events it waits for, a Prometheus text parser, and waits on a source's `changed`.
 */
import { request } from "node:http";
import type { NodeId } from "../../protocol/index.js";
import { ConsoleEmitter } from "../../view/emitter.js";
import {
  type ConsoleEvents,
  type ConsoleNode,
  type ConsoleSource,
  type Listener,
  NO_CAPABILITIES,
} from "../../view/source.js";
import type { WebServer } from "../server.js";

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
  readonly text: string;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as it is (with its own content type). */
  readonly raw?: { readonly type: string; readonly text: string };
  readonly headers?: Record<string, string>;
}

export async function call(
  server: WebServer,
  method: string,
  path: string,
  o: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.raw) {
    headers["content-type"] = o.raw.type;
    body = o.raw.text;
  } else if (o.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(o.body);
  }
  const res = await fetch(`${server.origin}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (the page, metrics)
  }
  return { status: res.status, headers: res.headers, json, text };
}

/**
 * How long a wait on the fleet may take at most: bounded, but far past what a correct fleet needs on
 * a host loaded 10-20 deep (the waits here take well under a second when the host is idle; a 10 s
 * bound failed correct runs under load).
 */
export const WAIT_MS = 60_000;
/** The time of a test or hook that waits on the fleet (two waits and the rest), above vitest's 30 s. */
export const WAITING_TEST_MS = 3 * WAIT_MS;

/**
 * Resolves once `cond()` holds: checked at once, on every `changed` of the source, and every 100 ms
 * (a condition on what moves without a `changed`, such as the run's clock, cannot be missed).
 * Rejects after `timeoutMs`, naming `what`.
 */
export function whenChanged(
  source: ConsoleSource,
  cond: () => boolean,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(deadline);
      clearInterval(poll);
      off();
    };
    const check = (): void => {
      if (!cond()) return;
      done();
      resolve();
    };
    const deadline = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
    }, timeoutMs);
    const poll = setInterval(check, 100);
    const off = source.on("changed", check);
  });
}

export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

/** An event-stream client over a raw HTTP request; `next(pred)` resolves on the first matching event. */
export class SseClient {
  readonly events: SseEvent[] = [];
  bytes = 0;
  private buffer = "";
  private waiters: { pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  readonly closed: Promise<void>;
  private closeIt!: () => void;
  status = 0;

  constructor(origin: string, path: string, opts: { readonly read?: boolean } = {}) {
    this.closed = new Promise((r) => {
      this.closeIt = r;
    });
    const req = request(`${origin}${path}`, (res) => {
      this.status = res.statusCode ?? 0;
      if (opts.read === false) {
        res.pause();
        // Stop reading at once: the socket's receive window fills and the server's buffer grows.
        res.socket.pause();
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => this.take(chunk));
      res.on("close", () => this.closeIt());
      res.on("error", () => this.closeIt());
    });
    req.on("error", () => this.closeIt());
    req.end();
    this.req = req;
  }

  private readonly req: ReturnType<typeof request>;

  next(pred: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timed out waiting for an event")), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        },
      });
    });
  }

  close(): void {
    this.req.destroy();
  }

  private take(chunk: string): void {
    this.bytes += chunk.length;
    this.buffer += chunk;
    let i = this.buffer.indexOf("\n\n");
    while (i >= 0) {
      const block = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      i = this.buffer.indexOf("\n\n");
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
      const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
      if (event === undefined || data === undefined) continue;
      const e = { event, data: JSON.parse(data) as unknown };
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    }
  }
}

/** Prometheus text format, strictly: every sample line is `name{labels} value`; returns the samples. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = sample.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

/**
 * A fleet view that does nothing and has nothing to show but its nodes: the base of the tests' own
 * views (one that logs on demand, one that names the nodes that changed).
 */
export abstract class QuietSource implements ConsoleSource {
  abstract readonly title: string;
  readonly capabilities = NO_CAPABILITIES;
  readonly events = new ConsoleEmitter();
  abstract now: () => number;
  abstract nodes: () => ConsoleNode[];
  node = (id: NodeId) => this.nodes().find((n) => n.id === id);
  detail = () => undefined;
  convergence = () => ({ fraction: 1, inSync: 0, known: 0, history: [] });
  latency = () => ({ count: 0, p50Ms: 0, p99Ms: 0, bucketMs: 50, buckets: [], overflow: 0 });
  lossPct = () => undefined;
  faults = () => [];
  setLoss = () => Promise.resolve();
  press = () => Promise.resolve();
  set = () => Promise.resolve(undefined);
  pair = () => Promise.resolve(undefined);
  unpair = () => Promise.resolve(undefined);
  powerCycle = () => Promise.resolve();
  pullCable = () => Promise.resolve();
  query = () => Promise.resolve();
  restartBroker = () => Promise.resolve();
  powerOutage = () => Promise.resolve();
  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void {
    return this.events.on(event, listener);
  }
}
