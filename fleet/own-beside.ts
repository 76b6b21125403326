/**
 * A run that controls the fleet with its own twins service (no service was on the broker when it
 * started) and another twins service started on the same fleet mid-run (a standalone `twinfleet
 * twins` an operator started): two controllers, each undoing the other's pairings and sets. The
 * run's service watches for others as long as it runs (twins/other-services.ts) and logs them; this
 * lists them in the report's `ownTwins.beside` and the summary, as `joinedTwins.beside` lists those
 * beside a service the run joined (fleet/joined-watch.ts).
 */
import type { Scheduler } from "../node/scheduler.js";
import type { TwinsServiceInfo } from "../twins/index.js";
import { BesideList, type OwnTwinsReport } from "./joined-watch.js";

/** The part of the run's twins service the watch uses (a TwinsHost: the same across its restarts). */
export interface OtherServicesSource {
  readonly clientId: string;
  readonly otherServices: readonly TwinsServiceInfo[];
  on(event: "other-services", listener: (services: readonly TwinsServiceInfo[]) => void): unknown;
}

export class OwnBesideWatch {
  private readonly beside = new BesideList();

  constructor(
    private readonly twins: OtherServicesSource,
    private readonly sched: Scheduler,
  ) {
    // Already told before the watch began (a service found on the broker as the run's started).
    this.told(twins.otherServices);
    twins.on("other-services", (services) => this.told(services));
  }

  private told(services: readonly TwinsServiceInfo[]): void {
    const now = this.sched.now();
    const ids = new Set(services.map((s) => s.clientId));
    for (const id of ids) this.beside.present(id, now);
    for (const id of this.beside.ids()) if (!ids.has(id)) this.beside.gone(id, now);
  }

  /** Undefined when no other service was seen: the report is then as it was. */
  report(originMs: number): OwnTwinsReport | undefined {
    if (this.beside.size === 0) return undefined;
    return { clientId: this.twins.clientId, beside: this.beside.report(originMs) };
  }
}
