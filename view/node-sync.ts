/**
 * Each node's sync as a view shows it, from the twins service's convergence reports. The latest
 * report is kept as it comes and carried into the nodes' sync only when the view is read
 * (`settle`): a fleet on virtual time sends one every 100 ms of its own time — many per wall frame
 * of a page or console — and each pass walks every follower.
 */
import type { NodeId } from "../protocol/index.js";
import type { ConvergenceReport } from "../twins/index.js";
import { syncOf } from "./node-list.js";
import type { ConsoleSync } from "./source.js";

export class NodeSync {
  private readonly status = new Map<NodeId, ConsoleSync>();
  private applied: ConvergenceReport | undefined;
  private unsettled: ConvergenceReport | undefined;

  /** The latest report carried in (settle first for the latest received). */
  get report(): ConvergenceReport | undefined {
    return this.applied;
  }

  of(id: NodeId): ConsoleSync {
    return this.status.get(id) ?? "unknown";
  }

  /** A new report: kept until the view is read. */
  received(report: ConvergenceReport): void {
    this.unsettled = report;
  }

  /** Carries the latest report received into the nodes' sync: the nodes whose sync moved. */
  settle(): Set<NodeId> | undefined {
    const report = this.unsettled;
    if (report === undefined) return undefined;
    this.unsettled = undefined;
    return this.apply(report);
  }

  /** Carries `report` in at once: the nodes whose sync moved. */
  apply(report: ConvergenceReport): Set<NodeId> {
    this.unsettled = undefined;
    this.applied = report;
    const next = new Map<NodeId, ConsoleSync>();
    for (const f of report.followers) next.set(f.id, syncOf(f.status));
    const moved = new Set<NodeId>();
    for (const [id, sync] of next) if (this.status.get(id) !== sync) moved.add(id);
    for (const id of this.status.keys()) if (!next.has(id)) moved.add(id);
    this.status.clear();
    for (const [id, sync] of next) this.status.set(id, sync);
    return moved;
  }
}
