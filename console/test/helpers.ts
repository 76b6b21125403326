/**
 * Test doubles for the console: a virtual terminal (streams blessed draws to and reads keys from),
 * a scheduler whose redraw timer fires only as a test advances it (most draw frames by hand), and a fake fleet that records every action and
 * reports whatever faults a test puts in progress.
 */
import { PassThrough } from "node:stream";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { ConsoleEmitter } from "../../view/emitter.js";
import type {
  Capabilities,
  ConsoleEvents,
  ConsoleFault,
  ConsoleNode,
  ConsolePace,
  ConsoleSource,
  ConvergenceSnapshot,
  LatencySnapshot,
  Listener,
  NodeDetail,
} from "../../view/source.js";
import { type ConsoleHandle, openConsole } from "../app.js";
import type { ConsoleOptions } from "../options.js";

export function virtualTerminal(columns = 80, rows = 24) {
  const input = new PassThrough();
  const output = Object.assign(new PassThrough(), { columns, rows, isTTY: true });
  output.resume();
  return { input, output };
}

/**
 * The console on `source` in `term` (a virtual terminal by default) on a manual clock (`sched`), its
 * handle put in `open` for the test to close; `closed()` says whether it has closed.
 */
export function consoleIn(
  source: ConsoleSource,
  open: ConsoleHandle[],
  term: Pick<ConsoleOptions, "input" | "output"> = virtualTerminal(80, 24),
) {
  const sched = manualScheduler();
  const handle = openConsole(source, {
    input: term.input,
    output: term.output,
    terminal: "xterm",
    ascii: true,
    handleProcess: false,
    scheduler: sched,
  });
  open.push(handle);
  let isClosed = false;
  void handle.closed.then(() => {
    isClosed = true;
  });
  return { handle, sched, closed: () => isClosed };
}

/** A scheduler for the console's redraw timer: nothing fires until the test advances it. */
export function manualScheduler(): FakeScheduler {
  return new FakeScheduler();
}

/** Lets the input stream deliver what a test wrote (stream events, not wall time). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export const KEYS = {
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  enter: "\r",
  escape: "\x1b",
  pagedown: "\x1b[6~",
} as const;

export type Action = readonly [name: string, ...args: unknown[]];

export const ALL_CAPS: Capabilities = {
  setLoss: true,
  press: true,
  set: true,
  pair: true,
  unpair: true,
  powerCycle: true,
  pullCable: true,
  query: true,
  restartBroker: true,
  powerOutage: true,
};

export const id = (i: number) => NodeId(`n-${String(i).padStart(4, "0")}`);

/** A fleet of `count` nodes: every 10th real, every 7th off-line, every 5th out of sync, odd ones on. */
export class FakeSource implements ConsoleSource {
  readonly title = "fake fleet";
  readonly actions: Action[] = [];
  readonly events = new ConsoleEmitter();
  nodeCalls = 0;
  loss = 0;
  fail: string | undefined;
  /** The source's clock, ms; tests move it by hand. */
  clock = 42_000;
  /** Faults in progress, as `faults()` reports them. */
  active: ConsoleFault[] = [];
  /** The pace a virtual-time fleet reports (offered where `capabilities.pace`). */
  paceNow: ConsolePace = { speed: 1, paused: false };
  private readonly list: ConsoleNode[];

  constructor(
    count: number,
    readonly capabilities: Capabilities = ALL_CAPS,
  ) {
    this.list = Array.from({ length: count }, (_, i) => ({
      id: id(i),
      kind: i % 10 === 3 ? "real" : "sim",
      on: i % 2 === 1,
      online: i % 7 !== 6,
      sync: i % 5 === 4 ? "out-of-sync" : i % 8 === 0 ? "unknown" : "in-sync",
    }));
  }

  now(): number {
    return this.clock;
  }

  nodes(): readonly ConsoleNode[] {
    this.nodeCalls++;
    return this.list;
  }

  detail(nodeId: NodeId): NodeDetail | undefined {
    const node = this.list.find((n) => n.id === nodeId);
    if (!node) return undefined;
    return {
      node,
      follows: [id(1), id(2)],
      followers: [id(9)],
      identity: "uno-w5100 fw 1.0.0",
      cpuPct: 3.25,
      ramBytes: 1234,
      link: { retransmissions: 17, timeouts: 2, reconnects: 1 },
      cablePulled: false,
      lastMessages: ["rx R1 1 42 n-0001", "tx R1 1 42 n-0001"],
    };
  }

  convergence(): ConvergenceSnapshot {
    const history = Array.from({ length: 60 }, (_, i) => ({ t: i * 700, fraction: i < 30 ? 0.99 : 0.7 }));
    return { fraction: 0.873, inSync: 873, known: 1000, history };
  }

  latency(): LatencySnapshot {
    const buckets = Array.from({ length: 40 }, (_, i) => (i < 10 ? 50 - i : i === 30 ? 5 : 0));
    return { count: 410, p50Ms: 212, p99Ms: 1480, bucketMs: 50, buckets, overflow: 0 };
  }

  lossPct(): number {
    return this.loss;
  }

  faults(): readonly ConsoleFault[] {
    return this.active;
  }

  private record(name: string, ...args: unknown[]): Promise<void> {
    this.actions.push([name, ...args]);
    return this.fail === undefined ? Promise.resolve() : Promise.reject(new Error(this.fail));
  }

  setLoss(pct: number) {
    this.loss = pct;
    return this.record("setLoss", pct);
  }
  press(n: NodeId) {
    return this.record("press", n);
  }
  set(n: NodeId, on: boolean) {
    return this.record("set", n, on).then(() => undefined);
  }
  pair(f: NodeId, s: NodeId) {
    return this.record("pair", f, s).then(() => undefined);
  }
  unpair(f: NodeId, s: NodeId) {
    return this.record("unpair", f, s).then(() => undefined);
  }
  powerCycle(n: NodeId) {
    return this.record("powerCycle", n);
  }
  pullCable(n: NodeId, pulled: boolean) {
    return this.record("pullCable", n, pulled);
  }
  query() {
    return this.record("query");
  }
  restartBroker(downS: number) {
    return this.record("restartBroker", downS);
  }
  powerOutage(offS: number) {
    return this.record("powerOutage", offS);
  }

  pace(): ConsolePace {
    return this.paceNow;
  }
  setPace(p: ConsolePace): void {
    this.paceNow = p;
    void this.record("setPace", p.speed, p.paused);
  }

  on<K extends keyof ConsoleEvents>(event: K, listener: Listener<K>): () => void {
    return this.events.on(event, listener);
  }
}
