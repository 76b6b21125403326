/**
 * What the twins service says about the fleet's own nodes (never about someone else's on the same
 * broker): when each first registered with its state — the paper's registration time — and, for the
 * fault analysis, every later registration and every time one went offline.
 */
import type { NodeId } from "../protocol/index.js";
import type { NodeTimeline } from "../sim/recovery.js";
import type { TwinsHost } from "./twins-host.js";

export class Registrations {
  /** When each fleet node first registered with its state, on the run's clock. */
  readonly first = new Map<string, number>();
  private readonly fleet: ReadonlySet<string>;

  constructor(
    ids: readonly NodeId[],
    private readonly twins: TwinsHost,
    timeline: NodeTimeline,
    private readonly now: () => number,
  ) {
    this.fleet = new Set(ids);
    twins.on("twin-registered", (t) => {
      if (this.fleet.has(t.id)) timeline.registered(t.id, now());
      this.check(t.id);
    });
    twins.on("twin-updated", (t) => this.check(t.id));
    twins.on("twin-offline", (t) => {
      if (this.fleet.has(t.id)) timeline.wentOffline(t.id, now());
    });
  }

  /** Registered means: the twins know its kind (its register), its state, and see it online. */
  private check(id: string): void {
    if (this.first.has(id) || !this.fleet.has(id)) return;
    const t = this.twins.get(id);
    if (t?.kind !== undefined && t.reported !== undefined && t.presence === "online") {
      this.first.set(id, this.now());
    }
  }
}
