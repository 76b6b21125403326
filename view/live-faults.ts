/**
 * A live fleet's faults, which are the world's, not injected: the twins service's broker while it is
 * silent, its connection down or not made yet (the operator's view is not current then: the nodes
 * are shown as last known, from the service's store before the first connection), and the nodes
 * told as flapping in the last FLAP_SHOWN_MS, as one fault. Kept from the service's `broker` and
 * `twin-flapping` events for the console and the web page (view/twins-source.ts).
 */
import type { NodeId } from "../protocol/index.js";
import type { BrokerLoss } from "../twins/index.js";
import type { ConsoleFault } from "./source.js";

/** How the broker is away: silent, its connection lost, or never reached since the service started. */
export type BrokerAway = BrokerLoss | "unreached";

const AWAY: Record<BrokerAway, string> = {
  silent: "broker silent",
  lost: "broker connection lost",
  unreached: "broker not reached yet",
};

/** How long a node told as flapping stays among the faults shown. */
export const FLAP_SHOWN_MS = 300_000;

export class LiveFaults {
  /** While the broker is away: since when, and how (silent with the connection up, down, never reached). */
  private brokerLost: { readonly since: number; readonly how: BrokerAway } | undefined;
  /** Nodes told as flapping, with when. */
  private readonly flapping = new Map<NodeId, number>();

  /**
   * The broker lost (`how`, last heard at `lastHeardAt`) or back (`connected`), at `now`. A silence
   * that ends with the connection dropping is the same outage, from the same time.
   */
  broker(connected: boolean, now: number, lastHeardAt?: number, how?: BrokerAway): void {
    if (connected) this.brokerLost = undefined;
    else if (how === "silent") this.brokerLost = { since: lastHeardAt ?? now, how };
    else if (how === "unreached") this.brokerLost = { since: now, how };
    else this.brokerLost = { since: this.brokerLost?.since ?? now, how: "lost" };
  }

  /** While the broker is away: since when, and how. */
  get brokerAway(): { readonly since: number; readonly how: BrokerAway } | undefined {
    return this.brokerLost;
  }

  flapped(id: NodeId, now: number): void {
    this.flapping.set(id, now);
  }

  /** The faults at `now`. */
  list(now: number): ConsoleFault[] {
    const out: ConsoleFault[] = [];
    const lost = this.brokerLost;
    if (lost !== undefined) out.push({ what: AWAY[lost.how], since: lost.since });
    const flap = this.flappingFault(now);
    if (flap !== undefined) out.push(flap);
    return out;
  }

  /** The nodes told as flapping lately, as one fault (since the first of them); none when none. */
  private flappingFault(now: number): ConsoleFault | undefined {
    for (const [id, at] of this.flapping) if (now - at > FLAP_SHOWN_MS) this.flapping.delete(id);
    if (this.flapping.size === 0) return undefined;
    const ids = [...this.flapping.keys()];
    const more = ids.length > 3 ? ` and ${ids.length - 3} more` : "";
    return {
      what: `${ids.length} flapping (another client with the same id?): ${ids.slice(0, 3).join(", ")}${more}`,
      since: Math.min(...this.flapping.values()),
    };
  }
}
