/**
 * What the control side says about the fleet's own nodes (never about someone else's on the same
 * broker): when each first registered with its state — the paper's registration time — and, for the
 * fault analysis, every later registration and every time one went offline. On real time that is
 * the twins service; where none runs (virtual time without twins, a shard), what the broker's
 * traffic showed (its register, report and status messages, read by sim/broker-registry.ts).
 * `RegistrationSource` is either.
 */
import type { NodeId } from "../protocol/index.js";
import type { BrokerRegistry } from "../sim/broker-registry.js";
import type { MemoryBroker } from "../sim/memory-broker.js";
import type { NodeTimeline } from "../sim/recovery.js";
import type { Pairing } from "../sim/topology.js";
import { sameSet, type Twin } from "../twins/index.js";
import type { TwinsHost } from "./twins-host.js";

/** The paper's registration requirement: the press phase waits no longer than this for stragglers. */
export const REGISTRATION_LIMIT_MS = 30_000;

/**
 * The boot spread: nodes power on one after another over this many ms (5 ms a node, 20 s at most),
 * as a lab would plug them in.
 */
export function bootSpreadMs(nodes: number): number {
  return Math.min(20_000, nodes * 5);
}

/** The presses start this long after the fleet has registered. */
export const PRESS_LEAD_MS = 200;

/** The twins' view of the fleet, as the run needs it. */
export interface RegistrationSource {
  /** Whether the control side is running now (false while a twins service is killed). */
  readonly up: boolean;
  onRegistered(fn: (id: NodeId) => void): void;
  /** Returns what stops the calls. */
  onUpdated(fn: (id: NodeId) => void): () => void;
  onOffline(fn: (id: NodeId) => void): void;
  /** Registered means: the control side knows its kind (its register), its state, and sees it online. */
  isRegistered(id: string): boolean;
  /** Of `ids`, those whose register the control side heard but none of their reports (a broker that drops them). */
  unreported(ids: readonly NodeId[]): ReadonlySet<NodeId>;
  view(ids: readonly NodeId[], pairing: Pairing): TwinsView;
}

export class Registrations {
  /** When each fleet node first registered with its state, on the run's clock. */
  readonly first = new Map<string, number>();
  private readonly fleet: ReadonlySet<string>;
  /** Stops the updates: once every fleet node has registered, none of them can change `first`. */
  private readonly stopUpdates: () => void;

  constructor(
    ids: readonly NodeId[],
    private readonly source: RegistrationSource,
    timeline: NodeTimeline,
    private readonly now: () => number,
  ) {
    this.fleet = new Set(ids);
    source.onRegistered((id) => {
      if (this.fleet.has(id)) timeline.registered(id, now());
      this.check(id);
    });
    this.stopUpdates = source.onUpdated((id) => this.check(id));
    source.onOffline((id) => {
      if (this.fleet.has(id)) timeline.wentOffline(id, now());
    });
  }

  private check(id: string): void {
    if (this.first.has(id) || !this.fleet.has(id)) return;
    if (!this.source.isRegistered(id)) return;
    this.first.set(id, this.now());
    if (this.first.size === this.fleet.size) this.stopUpdates();
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

/** The run's twins service as its registration source. */
export function twinsSource(twins: TwinsHost): RegistrationSource {
  return {
    get up() {
      return twins.up;
    },
    onRegistered: (fn) => twins.on("twin-registered", (t) => fn(t.id)),
    onUpdated: (fn) => {
      const f = (t: Twin) => fn(t.id);
      twins.on("twin-updated", f);
      return () => twins.off("twin-updated", f);
    },
    onOffline: (fn) => twins.on("twin-offline", (t) => fn(t.id)),
    isRegistered: (id) => {
      const t = twins.get(id);
      return t?.kind !== undefined && t.reported !== undefined && t.presence === "online";
    },
    unreported: (ids) =>
      new Set(ids.filter((id) => twins.get(id)?.kind !== undefined && twins.get(id)?.reported === undefined)),
    view: (ids, pairing) => {
      let known = 0;
      let online = 0;
      let desiredAsPaired = 0;
      let pairingConfirmed = 0;
      for (const id of ids) {
        const t = twins.get(id);
        if (!t) continue;
        if (t.kind !== undefined && t.reported !== undefined) known++;
        if (t.presence === "online") online++;
        if (sameSet(t.desired.sources, pairing.get(id) ?? [])) desiredAsPaired++;
        if (t.pairing === "confirmed") pairingConfirmed++;
      }
      return { known, online, desiredAsPaired, pairingConfirmed };
    },
  };
}

/**
 * A registration source read off the broker's traffic by a BrokerRegistry, where no twins service
 * runs (a virtual run without twins, a shard). Its view counts `known` and `online` from the nodes'
 * own messages and `desiredAsPaired` from the retained configs (`configOf`: a node's config sources,
 * undefined when the broker holds none); `pairingConfirmed` stays 0, as nothing there confirms a
 * pairing (the twins service does that). `connected`: whether the traffic is being read now.
 */
export function registrySource(
  registry: BrokerRegistry,
  configOf: (id: NodeId) => readonly string[] | undefined,
  connected: () => boolean = () => true,
): RegistrationSource {
  return {
    get up() {
      return connected();
    },
    onRegistered: (fn) => registry.on("registered", (e) => fn(e.id)),
    onUpdated: (fn) => {
      const f = (e: { readonly id: NodeId }) => fn(e.id);
      registry.on("updated", f);
      return () => registry.off("updated", f);
    },
    onOffline: (fn) => registry.on("offline", (e) => fn(e.id)),
    isRegistered: (id) => {
      const e = registry.get(id);
      return e?.registered === true && e.reported && e.online;
    },
    unreported: (ids) =>
      new Set(ids.filter((id) => registry.get(id)?.registered === true && !registry.get(id)?.reported)),
    view: (ids, pairing) => {
      let known = 0;
      let online = 0;
      let desiredAsPaired = 0;
      for (const id of ids) {
        const e = registry.get(id);
        if (e?.registered && e.reported) known++;
        if (e?.online) online++;
        const has = configOf(id);
        if (has !== undefined && sameSet(has, pairing.get(id) ?? [])) desiredAsPaired++;
      }
      return { known, online, desiredAsPaired, pairingConfirmed: 0 };
    },
  };
}

/**
 * A virtual run's registration source: what the in-memory broker saw, its retained configs read
 * from the broker itself (a node without one has none: no sources).
 */
export function brokerSource(
  registry: BrokerRegistry,
  broker: MemoryBroker,
  prefix: string,
): RegistrationSource {
  return registrySource(registry, (id) => {
    const config = broker.retained.get(`${prefix}/config/${id}`);
    return config === undefined || config === "" ? [] : config.split(" ").slice(2);
  });
}

/**
 * The twins' view of the fleet at the end of the run, taken before its nodes stop (their last wills
 * would show them offline), with the service the run joined asked then which of them it holds.
 */
export async function viewBeforeNodesStop(
  parts: {
    readonly source: Pick<RegistrationSource, "view">;
    readonly probe?: { askHeld(ids: readonly NodeId[]): Promise<void> };
  },
  ids: readonly NodeId[],
  pairing: Pairing,
): Promise<TwinsView> {
  const view = parts.source.view(ids, pairing);
  await parts.probe?.askHeld(ids);
  return view;
}
