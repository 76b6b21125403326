/**
 * Judges the kernel fleet's messages as the simulator's checker judges a run (sim/checker.ts), so
 * both halves of the calibration measure one thing. The simulator's sync latency is state, not
 * message: a (press, partner) pair is done when the partner's state carries the press's stamp or a
 * newer one — its own later press included (docs/protocol.md §4: Lamport counters, ties by id) —
 * and a press the partner already holds a newer state than is done at once. The kernel's clients
 * only log when each press was published and when its message arrived; this replays that log with
 * the firmware's clock rule (node/core.ts: a press stamps max(clock, seen) + 1, every report seen
 * raises the clock, a report newer than the state is adopted) into the same SyncChecker.
 */
import { isNewer, type NodeId, nextCounter, type Stamp } from "../protocol/index.js";
import { LOST_AFTER_MS, SyncChecker } from "../sim/checker.js";

/** A press: message `id` published by client `from` at `at` (ms, one clock). */
export interface PressLog {
  readonly id: number;
  readonly from: number;
  readonly at: number;
}

/** Message `id` arrived at its partner at `at`. */
export interface ReceiptLog {
  readonly id: number;
  readonly at: number;
}

export interface Judged {
  /** Latencies of the pairs reflected within the lost limit (ms). */
  readonly latencies: number[];
  /** Pairs not reflected within the lost limit. */
  readonly lost: number;
}

/** Pairs: client i follows client i ^ 1. */
export function judgeAsChecker(
  clients: number,
  presses: readonly PressLog[],
  receipts: readonly ReceiptLog[],
  lostAfterMs = LOST_AFTER_MS,
): Judged {
  if (!Number.isInteger(clients) || clients < 2 || clients % 2 !== 0) {
    throw new Error(`judgeAsChecker: clients must be an even number ≥ 2, got ${clients}`);
  }
  const id = (i: number) => `cal-${i}` as NodeId;
  const reach = new Map<NodeId, NodeId[]>();
  for (let i = 0; i < clients; i++) reach.set(id(i), [id(i ^ 1)]);
  const checker = new SyncChecker(reach, lostAfterMs);
  const latencies: number[] = [];
  checker.onReflected((ms) => {
    if (ms <= lostAfterMs) latencies.push(ms);
  });
  const from = new Map<number, number>();
  for (const p of presses) {
    if (!Number.isInteger(p.from) || p.from < 0 || p.from >= clients) {
      throw new Error(`judgeAsChecker: press ${p.id} from client ${p.from}, not one of 0..${clients - 1}`);
    }
    from.set(p.id, p.from);
  }
  type Ev = { at: number; press: boolean; id: number };
  const events: Ev[] = [
    ...presses.map((p) => ({ at: p.at, press: true, id: p.id })),
    ...receipts.map((r) => ({ at: r.at, press: false, id: r.id })),
  ];
  // Time order; at one instant a press before a receipt (a message cannot arrive before it is sent).
  events.sort((a, b) => a.at - b.at || Number(b.press) - Number(a.press));
  const clock = new Array<number>(clients).fill(0);
  const state = new Array<Stamp | undefined>(clients).fill(undefined);
  const stamps = new Map<number, Stamp>();
  for (const e of events) {
    const src = from.get(e.id);
    if (src === undefined) throw new Error(`judgeAsChecker: receipt of message ${e.id}, never pressed`);
    if (e.press) {
      const counter = nextCounter(clock[src] as number);
      clock[src] = counter;
      const stamp: Stamp = { counter, origin: id(src) };
      stamps.set(e.id, stamp);
      state[src] = stamp;
      checker.press({ node: id(src), stamp, at: e.at });
      continue;
    }
    const to = src ^ 1;
    const stamp = stamps.get(e.id) as Stamp;
    clock[to] = Math.max(clock[to] as number, stamp.counter);
    const held = state[to];
    if (held === undefined || isNewer(stamp, held)) {
      state[to] = stamp;
      checker.applied({ node: id(to), stamp, at: e.at });
    }
  }
  checker.finish();
  return { latencies, lost: checker.counts().lost };
}
