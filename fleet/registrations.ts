/**
 * What the twins service says about the fleet's own nodes (never about someone else's on the same
 * broker): when each first registered with its state — the paper's registration time — and, for the
 * fault analysis, every later registration and every time one went offline.
 */
import type { NodeId } from "../protocol/index.js";
import type { NodeTimeline } from "../sim/recovery.js";
import type { Pairing } from "../sim/topology.js";
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

/** The twins service's view of the fleet's own nodes when the run ends: is it complete and right? */
export interface TwinsView {
  /** Fleet nodes the twins know of with an identity (register) and a state (report). */
  readonly known: number;
  readonly online: number;
  /** Nodes whose desired sources are exactly the run's pairing. */
  readonly desiredAsPaired: number;
  /** Nodes whose pairing the node itself has confirmed. */
  readonly pairingConfirmed: number;
}

export function twinsViewOf(twins: TwinsHost, ids: readonly NodeId[], pairing: Pairing): TwinsView {
  let known = 0;
  let online = 0;
  let desiredAsPaired = 0;
  let pairingConfirmed = 0;
  for (const id of ids) {
    const t = twins.get(id);
    if (!t) continue;
    if (t.kind !== undefined && t.reported !== undefined) known++;
    if (t.presence === "online") online++;
    const want = pairing.get(id) ?? [];
    const has = t.desired.sources;
    if (has.length === want.length && want.every((s) => has.includes(s))) desiredAsPaired++;
    if (t.pairing === "confirmed") pairingConfirmed++;
  }
  return { known, online, desiredAsPaired, pairingConfirmed };
}
