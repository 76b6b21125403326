/**
 * The run's own stalls (node/stall-watch.ts): each time its process did not run for a while (stopped,
 * its VM paused, its host swapping), measured as a fault of the whole fleet is — the nodes were frozen
 * with it — for the report's `stalls` and the summary. What the run noticed then is the stall's: a
 * loss of its connection to the broker that ended soon after is no outage of the broker
 * (fleet/broker-outages.ts), and the presses that came due meanwhile fired together when it ran
 * again, as a frozen host's boards would, many of them then ignored as bounces.
 */
import { STALL_AFTERMATH_MS, type Stall } from "../node/stall-watch.js";
import type { NodeId } from "../protocol/index.js";
import { type AnalysisInput, analyzeFaults, type FaultOutcome } from "../sim/recovery.js";
import { round } from "./report.js";

/** One stall of the run as the report tells it. */
export interface StallReport extends Omit<FaultOutcome, "windowEndMs"> {
  /** When the process stopped running, from the start of the presses. */
  readonly atMs: number;
  readonly durationMs: number;
  /** The run's connection to the broker was lost then and back soon after: the stall's, not an outage of the broker. */
  readonly brokerLost: boolean;
  /**
   * Presses made from its start until STALL_AFTERMATH_MS after it (the window of a fault's
   * `pressesDuring` would hold almost none: those that came due in the stall fire after it).
   */
  readonly pressesDuring: number;
  /** Presses the nodes ignored as bounces from its start until STALL_AFTERMATH_MS after it: those that came due fired at once. */
  readonly pressesIgnored: number;
  /** In a merged report (`twinfleet report merge`): the shard whose process it was; its nodes are those it hit. */
  readonly shard?: number;
}

export function stallReports(
  stalls: readonly Stall[],
  brokerLost: readonly Stall[],
  ignoredAt: readonly number[],
  input: Omit<AnalysisInput, "faults">,
  pressStartMs: number,
  /** The nodes the stalls froze: a shard's (its process alone stopped); the whole fleet when undefined. */
  nodes?: readonly NodeId[],
): StallReport[] {
  const faults = stalls.map((s) => ({ kind: "stall", startMs: s.startMs, endMs: s.endMs, nodes }));
  const { outcomes } = analyzeFaults({ ...input, faults });
  return stalls.map((s, k) => {
    const o = outcomes[k];
    return {
      atMs: round(s.startMs - pressStartMs, 1),
      durationMs: round(s.endMs - s.startMs, 1),
      brokerLost: brokerLost.includes(s),
      pressesIgnored: ignoredAt.filter((t) => t >= s.startMs && t <= s.endMs + STALL_AFTERMATH_MS).length,
      nodes: o?.nodes ?? 0,
      recoveryMs: o?.recoveryMs == null ? null : round(o.recoveryMs, 1),
      disconnected: o?.disconnected ?? 0,
      reregisteredMaxMs: o?.reregisteredMaxMs == null ? null : round(o.reregisteredMaxMs, 1),
      offlineDetectedMaxMs: o?.offlineDetectedMaxMs == null ? null : round(o.offlineDetectedMaxMs, 1),
      // A process that does not run makes no press: those that came due fire when it runs again,
      // after its end. So they are counted, as the bounces are, until STALL_AFTERMATH_MS after it.
      pressesDuring: input.pressTimes.filter((t) => t >= s.startMs && t <= s.endMs + STALL_AFTERMATH_MS)
        .length,
      lateBeyond5s: o?.lateBeyond5s ?? 0,
      lostForGood: o?.lostForGood ?? 0,
    };
  });
}
