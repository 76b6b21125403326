/**
 * Closes the fault analysis' windows while a long run goes on. From its first fault, broker outage or stall
 * a run keeps what the report's fault analysis reads (sim/recovery.ts): every (press, follower)
 * pair, the slow ones in full, the press times — the windows' ends are known only once the fleet has
 * recovered. Once every fault and outage so far has ended, the fleet has recovered from each, nothing
 * pressed before a window's end is still owed or held, and that end is CLOSE_MARGIN_MS in the past,
 * the windows are the ones the analysis will find at the end of the run: what settled before then is
 * tallied or dropped (SyncChecker.settleBefore), and the run keeps only its last minute or so.
 * The windows closed so far are remembered: a later attempt works out only the spans begun since, so
 * an attempt costs what the spans since the last close hold, not every fault of the run again.
 */
import type { NodeId } from "../protocol/index.js";
import type { TimeWindow } from "../sim/checker.js";
import { analyzeFaults, type FaultOutcome, type FaultSpan } from "../sim/recovery.js";
import { followersReach } from "../sim/topology.js";
import type { BrokerOutages } from "./broker-outages.js";
import type { Collector } from "./collector.js";
import type { FaultRecord } from "./faults/runner.js";
import { outageFaults } from "./summarize.js";

/**
 * A window may close only this long after its end: a later fault starts after now, an outage from
 * when the broker was last heard (the twins' keepalive: 15-22.5 s) less a second; neither can then
 * reach back to what settled before it, nor reopen an outage that ended.
 */
export const CLOSE_MARGIN_MS = 60_000;
/** How often (run clock) a run that has seen a fault tries to close its windows. */
export const CLOSE_EVERY_MS = 10_000;
/** Each attempt that cannot close doubles the wait before the next, up to this: the analysis costs. */
const CLOSE_EVERY_MAX_MS = 320_000;

/** What of a run the closing reads. */
export interface ClosingRun {
  readonly collector: Collector;
  readonly ids: readonly NodeId[];
  readonly faults: { readonly records: readonly FaultRecord[]; readonly inProgress: number };
  readonly outages: BrokerOutages;
  /** Who follows each node, as the run's analysis reads it; the collector's pairing when not given. */
  readonly reach?: ReadonlyMap<NodeId, readonly NodeId[]>;
}

/** Spans whose windows an earlier close found final, in the order the analysis lists them. */
export interface ClosedSpans {
  readonly faults: readonly ClosedSpan[];
  readonly outages: readonly ClosedSpan[];
  readonly stalls: readonly ClosedSpan[];
}

/** A span as it was when its window closed, and that window. */
interface ClosedSpan {
  readonly startMs: number;
  readonly endMs: number;
  readonly window: TimeWindow;
}

const NONE_CLOSED: ClosedSpans = { faults: [], outages: [], stalls: [] };

export class WindowCloser {
  private lastTry = Number.NEGATIVE_INFINITY;
  private wait = CLOSE_EVERY_MS;
  private readonly run: ClosingRun;
  private closed: ClosedSpans = NONE_CLOSED;

  constructor(
    collector: Collector,
    ids: readonly NodeId[],
    faults: ClosingRun["faults"],
    outages: BrokerOutages,
    reach?: ReadonlyMap<NodeId, readonly NodeId[]>,
  ) {
    this.run = { collector, ids, faults, outages, ...(reach !== undefined ? { reach } : {}) };
  }

  /** The run's periodic step at `now` (Collector.advance), and now and then an attempt to close. */
  advance(now: number, windowMs: number): void {
    const { collector, faults, outages } = this.run;
    // A stall is found when the process runs again, begun in the past: asked before the checker is
    // told that no fault began before now, so what was in flight when the process stopped is kept.
    const faulted =
      faults.records.length + faults.inProgress > 0 || outages.seen || outages.stalls().all.length > 0;
    collector.advance(now, windowMs, faulted);
    if (!faulted || now - this.lastTry < this.wait) return;
    this.lastTry = now;
    const closed = closeWindows(this.run, now, this.closed);
    if (typeof closed !== "string") this.closed = closed;
    this.wait = closed === "open" ? Math.min(2 * this.wait, CLOSE_EVERY_MAX_MS) : CLOSE_EVERY_MS;
  }
}

/**
 * Settles in the checker what lies before `now - CLOSE_MARGIN_MS` if every window is final (see the
 * module's comment): the spans closed now (those of `closed` and the ones begun since) if it did,
 * "open" if a window is not final, "busy" while a fault or an outage lasts (or the nodes changed
 * their pairing: the analysis judges the windows with the pairing at the end, so such a run keeps
 * everything). The spans of `closed` are not worked out again: their windows ended before the last
 * close's margin, and a span begun since starts after it, so neither can hold the other's nodes
 * (sim/recovery.ts heldElsewhere) nor reach the other's pairs; a list that no longer begins with
 * them (an outage told as a stall after all) is worked out whole.
 */
export function closeWindows(
  run: ClosingRun,
  now: number,
  closed: ClosedSpans = NONE_CLOSED,
): ClosedSpans | "open" | "busy" {
  const { collector, faults, outages } = run;
  if (faults.inProgress > 0 || outages.downS() !== undefined) return "busy";
  if ((collector.live?.changes.length ?? 0) > 0) return "busy";
  const checker = collector.checker;
  const before = now - CLOSE_MARGIN_MS;
  // A press still owed, or still held at its node, may yet be a slow pair that stretches a window.
  const owed = Math.min(
    checker.oldestOwed() ?? Number.POSITIVE_INFINITY,
    collector.oldestHeld() ?? Number.POSITIVE_INFINITY,
  );
  const timeline = collector.timeline;
  // As fleet/summarize.ts analyses them at the end of the run.
  const faultSpans = [...faults.records].sort((a, b) => a.startMs - b.startMs);
  const outageSpans = outages.list(now);
  const stallSpans = outages
    .stalls()
    .all.map((s) => ({ kind: "stall", startMs: s.startMs, endMs: s.endMs, nodes: undefined }));
  const done = {
    faults: closedPrefix(closed.faults, faultSpans),
    outages: closedPrefix(closed.outages, outageSpans),
    stalls: closedPrefix(closed.stalls, stallSpans),
  };
  const openFaults = faultSpans.slice(done.faults.length);
  const openOutages = outageSpans.slice(done.outages.length);
  const openStalls = stallSpans.slice(done.stalls.length);
  const outageFaultSpans = outageFaults(openOutages, timeline);
  const since = Math.min(...[...openFaults, ...outageFaultSpans, ...openStalls].map((f) => f.startMs));
  const recent = checker.unsettled();
  const input = {
    fleet: run.ids,
    reach: run.reach ?? followersReach(collector.pairing ?? new Map()),
    timeline,
    pairs: { pressAt: [], latencyMs: [] },
    // Only what may touch a span begun since the last close (none begun: nothing to look at).
    slow: recent.slow.filter((p) => (p.appliedAt ?? Number.POSITIVE_INFINITY) >= since),
    pressTimes: recent.pressTimes.filter((t) => t >= since),
    endMs: now,
  };
  const ofFaults = windows(openFaults, analyzeFaults({ ...input, faults: openFaults }).outcomes);
  const alsoHolding = openFaults.filter((f) => f.kind !== "broker-restart");
  const ofOutages = windows(
    outageFaultSpans,
    analyzeFaults({ ...input, faults: outageFaultSpans, alsoHolding }).outcomes,
  );
  // The run's own stalls are measured as faults of its nodes (fleet/stall-report.ts), not left out of
  // the figures outside the faults: their windows keep what they hold, as the outages' do.
  const ofStalls = windows(openStalls, analyzeFaults({ ...input, faults: openStalls }).outcomes);
  if (ofFaults === undefined || ofOutages === undefined || ofStalls === undefined) return "open";
  if ([...ofFaults, ...ofOutages, ...ofStalls].some((w) => w.to >= before || w.to >= owed)) return "open";
  const nowClosed: ClosedSpans = {
    faults: [...done.faults, ...closing(openFaults, ofFaults)],
    outages: [...done.outages, ...closing(openOutages, ofOutages)],
    stalls: [...done.stalls, ...closing(openStalls, ofStalls)],
  };
  const pairWindows = nowClosed.faults.map((c) => c.window);
  const all = [
    ...pairWindows,
    ...nowClosed.outages.map((c) => c.window),
    ...nowClosed.stalls.map((c) => c.window),
  ];
  checker.settleBefore(before, pairWindows, all);
  return nowClosed;
}

/** The closed spans `spans` still begins with (the same start and end), or none if it does not. */
function closedPrefix(
  closed: readonly ClosedSpan[],
  spans: readonly { readonly startMs: number; readonly endMs: number }[],
): readonly ClosedSpan[] {
  for (const [i, c] of closed.entries()) {
    const s = spans[i];
    if (s === undefined || s.startMs !== c.startMs || s.endMs !== c.endMs) return [];
  }
  return closed;
}

/** Each span with its window, as closed now. */
function closing(
  spans: readonly { readonly startMs: number; readonly endMs: number }[],
  ofSpans: readonly TimeWindow[],
): ClosedSpan[] {
  return spans.map((s, i) => ({ startMs: s.startMs, endMs: s.endMs, window: ofSpans[i] as TimeWindow }));
}

/** Each span's window, or undefined if the fleet has not recovered from one yet. */
function windows(spans: readonly FaultSpan[], outcomes: readonly FaultOutcome[]): TimeWindow[] | undefined {
  const out: TimeWindow[] = [];
  for (const [i, f] of spans.entries()) {
    const o = outcomes[i];
    if (o === undefined || o.recoveryMs === null) return undefined;
    out.push({ from: f.startMs, to: o.windowEndMs });
  }
  return out;
}
