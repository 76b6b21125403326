/**
 * Reports whose origin the configs known so far do not explain, held while the broker's replay after
 * a subscription is under way, and judged once it is over.
 *
 * A report carrying another node's stamp is believed only when that node is upstream of it under the
 * configs (twins/follow-graph.ts); otherwise it is `spoofed-origin` bad input. The configs are
 * subscribed first, but a broker sends a subscription's retained messages one by one after its SUBACK,
 * so a retained report (or a node's answer to the query) can come before a config on its path: a
 * standalone `twinfleet twins` started beside a 500-node fleet on `twinfleet broker --data` warned
 * `spoofed-origin` of 3 nodes at every start, all of them honest. Held here, such a report is judged
 * against every config the broker holds, once the replay is over as the service's one wait for it
 * says (twins/replay-end.ts: the replay marker back, then quiet): ended on the quiet time alone, a
 * replay pausing past it on a loaded host had honest reports judged against a part of the configs.
 */
import type { NodeId, ReportMessage } from "../protocol/index.js";

/** A report put aside, with what its judging needs. */
export interface HeldReport {
  readonly msg: ReportMessage;
  readonly topic: string;
  readonly now: number;
  readonly retained: boolean;
  readonly replayed: boolean;
}

export class OriginWait {
  private readonly held = new Map<NodeId, HeldReport>();
  /** A replay is under way: a report whose origin is unexplained is held, not judged. */
  open = false;

  /** The service subscribes: the broker's replay begins. */
  begin(): void {
    this.open = true;
  }

  /** Holds `report`, the node's latest such one, until the replay is over: no effect until then. */
  hold(node: NodeId, report: HeldReport): [] {
    this.held.set(node, report);
    return [];
  }

  /** The replay is over: the reports held, to be judged now, in the order they came. */
  end(): HeldReport[] {
    this.open = false;
    const out = [...this.held.values()];
    this.held.clear();
    return out;
  }
}
