/**
 * Runs a fault schedule against a fleet run: each entry starts at its time on the run's scheduler,
 * acts on the run through `FaultTargets`, and ends after its duration. What really happened — when
 * each fault started and ended on the run's clock and which nodes it hit — is kept as spans for the
 * fault analysis, and announced as it happens for the console and the progress lines.
 */

import { EventEmitter } from "node:events";
import type { Scheduler, Timer } from "../../node/scheduler.js";
import type { NodeId } from "../../protocol/index.js";
import { assertNever } from "../../protocol/index.js";
import type { FaultSpan } from "../../sim/recovery.js";
import { Holds, LossLayers } from "./holds.js";
import { type FaultEntry, type FaultKind, faultSpanS, selectNodes } from "./schedule.js";

/** What a fault can do to a fleet run. */
export interface FaultTargets {
  readonly ids: readonly NodeId[];
  readonly seed: string;
  killBroker(): Promise<void>;
  startBroker(): Promise<void>;
  power(ids: readonly NodeId[], on: boolean): void;
  cables(ids: readonly NodeId[], pulled: boolean): void;
  /** The loss now, and a new one. */
  lossPct(): number;
  setLoss(pct: number): void;
  killTwins(): Promise<void>;
  startTwins(): Promise<void>;
  /**
   * Starts a frozen client, waiting for a broker that is not reachable until `ended` aborts; resolves
   * to a function that ends it and says when the broker cut it.
   */
  freezeClient(topic: string | undefined, ended: AbortSignal): Promise<() => number | undefined>;
}

/** A fault as it happened, with times on the run's clock. */
export interface FaultRecord extends FaultSpan {
  readonly kind: FaultKind;
  /** Index in the schedule. */
  readonly index: number;
  /** The schedule's start, seconds into the presses. */
  readonly atS: number;
  /** The loss set by a `loss` fault. */
  readonly pct?: number;
  /** When the broker cut a frozen client off, ms on the run's clock. */
  readonly cutAtMs?: number;
  /** When a frozen client was in place (connected, subscribed, no longer reading), ms on the run's clock. */
  readonly frozenAtMs?: number;
  /** Set when the fault could not be carried out. */
  readonly error?: string;
}

export interface FaultRunnerEvents {
  start: [FaultRecord];
  end: [FaultRecord];
}

type End = () => Promise<Partial<FaultRecord>>;

interface Active {
  readonly entry: FaultEntry;
  readonly index: number;
  readonly nodes: readonly NodeId[] | undefined;
  readonly startMs: number;
  /** Aborted when the fault's time is up: a fault still taking hold (waiting for the broker) gives up. */
  readonly ended: AbortController;
  /** Settles once the fault has taken hold, to what ends it (undefined: it failed). */
  ready: Promise<End | undefined>;
}

export class FaultRunner extends EventEmitter<FaultRunnerEvents> {
  readonly records: FaultRecord[] = [];
  private readonly timers: Timer[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly active = new Set<Active>();
  /** Injected faults are numbered after the scheduled ones (the number seeds their choice of nodes). */
  private scheduled = 0;
  private injected = 0;
  /** Overlapping faults share what they hold: the last to end puts it back (fleet/faults/holds.ts). */
  private readonly services = new Holds<"broker" | "twins">();
  private readonly unpowered = new Holds<NodeId>();
  private readonly unplugged = new Holds<NodeId>();
  private readonly loss: LossLayers;
  /** The kill of the broker or the twins a first fault began, awaited by those that join it. */
  private readonly kills = new Map<"broker" | "twins", Promise<void>>();

  constructor(
    private readonly sched: Scheduler,
    private readonly targets: FaultTargets,
  ) {
    super();
    this.loss = new LossLayers(
      () => targets.lossPct(),
      (pct) => targets.setLoss(pct),
    );
  }

  /** Schedules every entry, counting from `pressStartMs` on the scheduler's clock. */
  schedule(entries: readonly FaultEntry[], pressStartMs: number): void {
    this.scheduled += entries.length;
    entries.forEach((entry, index) => {
      this.timers.push(this.sched.at(pressStartMs + entry.atS * 1000, () => this.run(entry, index)));
    });
  }

  /** Starts one fault now, outside any schedule (the console); it ends after its own duration. */
  inject(entry: FaultEntry): void {
    this.run({ ...entry, atS: 0 }, this.scheduled + this.injected++);
  }

  /** Faults started and not yet ended. */
  get inProgress(): number {
    return this.active.size;
  }

  /**
   * The broker's last restart failed (its data directory full, or gone) and none is under way: it is
   * not coming back, and the fleet cannot recover however long the settle waits for it.
   */
  get brokerGone(): boolean {
    const restarts = this.records.filter((r) => r.kind === "broker-restart");
    return this.inProgress === 0 && restarts.at(-1)?.error !== undefined;
  }

  /** Stops scheduling, ends what is in progress (plugs cables back, powers nodes on, …) and waits. */
  async stop(): Promise<void> {
    for (const t of this.timers) t.cancel();
    for (const a of [...this.active]) this.finish(a);
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private run(entry: FaultEntry, index: number): void {
    const { from, to } = faultSpanS(entry);
    const t = this.targets;
    const nodes =
      entry.kind === "power-outage" || entry.kind === "partition"
        ? selectNodes(entry.nodes, t.ids, t.seed, index)
        : undefined;
    const a: Active = {
      entry,
      index,
      nodes,
      startMs: this.sched.now(),
      ended: new AbortController(),
      ready: Promise.resolve(undefined),
    };
    this.active.add(a);
    this.emit("start", this.record(a, a.startMs, entry.kind === "loss" ? { pct: entry.pct } : {}));
    a.ready = this.take(entry, nodes ?? [], a.ended.signal).catch((err: unknown) => {
      this.close(a, { error: err instanceof Error ? err.message : String(err) });
      return undefined;
    });
    if (to > from)
      this.timers.push(this.sched.at(this.sched.now() + (to - from) * 1000, () => this.finish(a)));
    else this.finish(a);
  }

  /** Puts the fault in place; resolves to what ends it. */
  private async take(entry: FaultEntry, nodes: readonly NodeId[], ended: AbortSignal): Promise<End> {
    const t = this.targets;
    switch (entry.kind) {
      case "broker-restart":
        await this.down("broker", () => t.killBroker());
        return async () => {
          if (this.services.give(["broker"]).length > 0) await t.startBroker();
          return {};
        };
      case "twins-restart":
        await this.down("twins", () => t.killTwins());
        return async () => {
          if (this.services.give(["twins"]).length > 0) await t.startTwins();
          return { reregisterAll: true };
        };
      case "power-outage": {
        const off = this.unpowered.take(nodes);
        if (off.length > 0) t.power(off, false);
        return async () => {
          const on = this.unpowered.give(nodes);
          if (on.length > 0) t.power(on, true);
          return { reregisterAll: true };
        };
      }
      case "partition": {
        const pulled = this.unplugged.take(nodes);
        if (pulled.length > 0) t.cables(pulled, true);
        return async () => {
          const back = this.unplugged.give(nodes);
          if (back.length > 0) t.cables(back, false);
          return {};
        };
      }
      case "loss": {
        if (entry.forS === undefined) {
          this.loss.step(entry.pct);
          return async () => ({ pct: entry.pct });
        }
        const end = this.loss.burst(entry.pct);
        return async () => {
          end();
          return { pct: entry.pct };
        };
      }
      case "frozen-client": {
        const thaw = await t.freezeClient(entry.topic, ended);
        const frozenAtMs = this.sched.now();
        return async () => {
          const cut = thaw();
          return cut === undefined ? { frozenAtMs } : { frozenAtMs, cutAtMs: cut };
        };
      }
      default:
        assertNever(entry);
    }
  }

  /**
   * Takes the broker or the twins down for a fault: the first to hold it kills it, the others wait
   * for that kill. A kill that fails gives the hold back.
   */
  private async down(what: "broker" | "twins", kill: () => Promise<void>): Promise<void> {
    if (this.services.take([what]).length > 0) this.kills.set(what, kill());
    try {
      await this.kills.get(what);
    } catch (err) {
      this.services.give([what]);
      throw err;
    }
  }

  private finish(a: Active): void {
    a.ended.abort();
    this.hold(
      (async () => {
        const end = await a.ready;
        if (end === undefined || !this.active.has(a)) return;
        try {
          this.close(a, await end());
        } catch (err) {
          this.close(a, { error: err instanceof Error ? err.message : String(err) });
        }
      })(),
    );
  }

  private close(a: Active, extra: Partial<FaultRecord>): void {
    if (!this.active.delete(a)) return;
    const r = this.record(a, this.sched.now(), extra);
    this.records.push(r);
    this.emit("end", r);
  }

  private record(a: Active, endMs: number, extra: Partial<FaultRecord>): FaultRecord {
    return {
      kind: a.entry.kind,
      index: a.index,
      atS: a.entry.atS,
      startMs: a.startMs,
      endMs,
      nodes: a.nodes,
      ...extra,
    };
  }

  private hold(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}

/** One line for a log: the kind, the loss it set, how many nodes it hit. */
export function describeFault(f: FaultRecord): string {
  const who = f.nodes ? ` (${f.nodes.length} node${f.nodes.length === 1 ? "" : "s"})` : "";
  return `${f.kind}${f.pct !== undefined ? ` ${f.pct}%` : ""}${who}`;
}
