/**
 * Runs fuzz scripts (scripts.ts) against a broker over real TCP sockets, `concurrency` connections
 * at a time, each slot starting the next script as soon as its connection is over, until `count`
 * scripts have run or the signal aborts. Tallies what was sent and how each connection ended, and
 * whether the broker answered or closed every one: after its steps, a connection waits up to
 * `verdictMs` for a first byte or a close from the broker before it leaves.
 */

import { connect, type Socket } from "node:net";
import { loopDeadline } from "../../../node/test/loop-time.js";
import { assertNever } from "../../../protocol/index.js";
import { type Script, type ScriptKind, type Step, scriptFor } from "./scripts.js";

export type Ending =
  /** The broker closed (FIN or reset) before the script left. */
  | "broker-closed"
  /** The script ran to its end and left (FIN or reset). */
  | "client-closed"
  /** The run stopped while the connection was open. */
  | "stopped"
  /** TCP connect failed: the broker is gone, or no socket could be had. */
  | "connect-failed"
  /** The broker took none of our bytes for WRITE_STALL_MS. */
  | "write-stalled";

/** What the broker did in answer: sent something, closed without a word, or neither in time. */
export type Verdict = "answered" | "closed" | "unanswered" | "stopped";

export interface ConnectionResult {
  readonly index: number;
  readonly kind: ScriptKind;
  readonly ending: Ending;
  readonly verdict: Verdict;
  readonly bytesIn: number;
  readonly error: string | undefined;
  /** From connect to the end of leaving. */
  readonly ms: number;
}

export interface FuzzOptions {
  readonly host: string;
  readonly port: number;
  readonly seed: string;
  readonly concurrency: number;
  /** Run scripts 0 … count-1 and stop; without it, run until the signal aborts. */
  readonly count?: number;
  /** Run exactly these scripts instead (a replay). */
  readonly only?: readonly number[];
  readonly signal?: AbortSignal;
  /**
   * How long a connection waits for the broker to answer or close it: after its steps, and at an
   * await-answer step.
   */
  readonly verdictMs: number;
  /**
   * Caps the time one script spends in pauses and holds altogether (short runs): a slowloris drips
   * for up to a minute and a silent socket holds for up to 40 s unless the broker cuts them.
   */
  readonly idleCapMs?: number;
  /** Slot i opens its first connection after i × rampMs, so that they do not all start at once. */
  readonly rampMs?: number;
  /** Keep every connection's result (tests); otherwise only the tallies. */
  readonly keepResults?: boolean;
}

export class FuzzTally {
  connections = 0;
  packets = 0;
  bytesOut = 0;
  bytesIn = 0;
  readonly kinds: Partial<Record<ScriptKind, number>> = {};
  readonly endings: Partial<Record<Ending, number>> = {};
  readonly verdicts: Partial<Record<Verdict, number>> = {};
  /** Socket error codes seen (ECONNRESET, EPIPE, …). */
  readonly errors: Record<string, number> = {};
  /** Scripts whose connection is open now: the ones to replay if the broker dies. */
  readonly inFlight = new Set<number>();
  readonly results: ConnectionResult[] = [];
}

const WRITE_STALL_MS = 10_000;
/** After a FIN of ours, how long the broker may take to close its side before we reset. */
const LEAVE_MS = 2000;

export async function runFuzz(o: FuzzOptions, tally = new FuzzTally()): Promise<FuzzTally> {
  let next = 0;
  // One abort listener for the run, not one per connection: it wakes every connection's wait.
  const live = new Set<Connection>();
  const wakeAll = () => {
    for (const c of live) c.kick();
  };
  o.signal?.addEventListener("abort", wakeAll, { once: true });
  const take = (): number | undefined => {
    if (o.signal?.aborted) return undefined;
    if (o.only) return next < o.only.length ? o.only[next++] : undefined;
    if (o.count !== undefined && next >= o.count) return undefined;
    return next++;
  };
  const slot = async (_: unknown, n: number) => {
    if (o.rampMs) await new Promise((r) => setTimeout(r, n * (o.rampMs ?? 0)));
    for (let i = take(); i !== undefined; i = take()) {
      const script = scriptFor(o.seed, i);
      tally.inFlight.add(i);
      const connection = new Connection(script, o);
      live.add(connection);
      const r = await connection.run(tally);
      live.delete(connection);
      tally.inFlight.delete(i);
      tally.connections++;
      tally.kinds[script.kind] = (tally.kinds[script.kind] ?? 0) + 1;
      tally.endings[r.ending] = (tally.endings[r.ending] ?? 0) + 1;
      tally.verdicts[r.verdict] = (tally.verdicts[r.verdict] ?? 0) + 1;
      tally.bytesIn += r.bytesIn;
      if (r.error !== undefined) tally.errors[r.error] = (tally.errors[r.error] ?? 0) + 1;
      if (o.keepResults) tally.results.push(r);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, slot));
  o.signal?.removeEventListener("abort", wakeAll);
  return tally;
}

class Connection {
  private socket: Socket | undefined;
  private answered = false;
  private brokerClosed = false;
  private closed = false;
  private leaving = false;
  private bytesIn = 0;
  /** What is left of o.idleCapMs. */
  private idleLeft: number;
  private readonly started = performance.now();
  private error: string | undefined;
  /** Re-checks the condition of the wait under way, if any (socket events, the run's abort). */
  kick: () => void = () => {};

  constructor(
    private readonly script: Script,
    private readonly o: FuzzOptions,
  ) {
    this.idleLeft = o.idleCapMs ?? Number.POSITIVE_INFINITY;
  }

  private get aborted(): boolean {
    return this.o.signal?.aborted === true;
  }

  private get over(): boolean {
    return this.closed || this.brokerClosed || this.aborted;
  }

  /**
   * Resolves after `ms` of this process's loop time (node/test/loop-time.ts: a broker in this process gets
   * the time the host took from both added), or as soon as `done()` holds (checked at every kick()).
   */
  private wait(ms: number, done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        deadline.cancel();
        this.kick = () => {};
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const deadline = loopDeadline(ms, finish);
      this.kick = check;
    });
  }

  async run(tally: FuzzTally): Promise<ConnectionResult> {
    const opened = await this.open();
    if (!opened) return this.result("connect-failed", "closed");
    let stalled = false;
    for (const step of this.script.steps) {
      if (this.over) break;
      if (!(await this.step(step, tally))) {
        stalled = true;
        break;
      }
    }
    await this.wait(this.o.verdictMs, () => this.answered || this.over);
    const verdict: Verdict = this.answered
      ? "answered"
      : this.brokerClosed
        ? "closed"
        : this.aborted
          ? "stopped"
          : "unanswered";
    const ending: Ending = this.brokerClosed
      ? "broker-closed"
      : stalled
        ? "write-stalled"
        : this.aborted
          ? "stopped"
          : "client-closed";
    await this.leave(stalled || this.aborted ? "destroy" : this.script.leave);
    return this.result(ending, verdict);
  }

  private result(ending: Ending, verdict: Verdict): ConnectionResult {
    const { index, kind } = this.script;
    const ms = performance.now() - this.started;
    return { index, kind, ending, verdict, bytesIn: this.bytesIn, error: this.error, ms };
  }

  private open(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: this.o.host, port: this.o.port });
      this.socket = s;
      s.setNoDelay(true);
      s.once("connect", () => resolve(true));
      s.on("error", (err: NodeJS.ErrnoException) => {
        this.error ??= err.code ?? err.message;
        if (!s.connecting && !this.leaving) this.brokerClosed = true;
        resolve(false);
        this.kick();
      });
      s.on("data", (chunk: Buffer) => {
        this.bytesIn += chunk.length;
        this.answered = true;
        this.kick();
      });
      s.on("end", () => {
        if (!this.leaving) this.brokerClosed = true;
        this.kick();
      });
      s.on("close", () => {
        if (!this.leaving) this.brokerClosed = true;
        this.closed = true;
        this.kick();
      });
      s.on("drain", () => this.kick());
    });
  }

  /** One step; false when the broker stopped taking our bytes. */
  private async step(step: Step, tally: FuzzTally): Promise<boolean> {
    const s = this.socket!;
    switch (step.op) {
      case "write":
        tally.packets += step.packets;
        tally.bytesOut += step.bytes.length;
        if (s.write(step.bytes)) return true;
        await this.wait(WRITE_STALL_MS, () => this.over || s.writableLength === 0);
        return this.over || s.writableLength === 0;
      case "pause":
      case "hold":
        await this.idle(step.ms);
        return true;
      case "await-answer":
        await this.wait(this.o.verdictMs, () => this.answered || this.over);
        return true;
      case "stop-reading":
        s.pause();
        return true;
      default:
        return assertNever(step);
    }
  }

  private async idle(ms: number): Promise<void> {
    const take = Math.min(ms, this.idleLeft);
    if (take <= 0) return;
    const from = performance.now();
    await this.wait(take, () => this.over);
    this.idleLeft -= performance.now() - from;
  }

  private async leave(how: "end" | "destroy"): Promise<void> {
    const s = this.socket!;
    this.leaving = true;
    if (s.destroyed) return;
    if (how === "destroy") {
      s.destroy();
      return;
    }
    // A paused socket would never see the broker's FIN: read (and drop) what is left.
    s.resume();
    s.end();
    await this.wait(LEAVE_MS, () => this.closed);
    s.destroy();
  }
}
