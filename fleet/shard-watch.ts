/**
 * What a shard knows of the whole fleet, read from the broker's traffic by one plain client — no
 * twins service in the shard (N shards would run N of them, each handling the whole fleet's traffic,
 * beside their nodes on one host): which nodes registered, reported and are online
 * (sim/broker-registry.ts, as a virtual run reads its in-memory broker), and the retained config of
 * each node, so the shard pairs its own nodes with a version above the broker's.
 */
import type mqtt from "mqtt";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
import { allNodesTopic, decode, type NodeId, type Prefix, ProtocolError } from "../protocol/index.js";
import { BrokerRegistry } from "../sim/broker-registry.js";
import type { PublishTap } from "../sim/memory-broker.js";
import type { Pairing } from "../sim/topology.js";
import { sameSet } from "../twins/index.js";
import type { RegistrationSource } from "./registrations.js";

/** How long, at most, to let the broker's retained state arrive before pairing. */
const RETAINED_QUIET_MS = 300;
const RETAINED_MAX_MS = 3000;

export class FleetWatch {
  readonly registry: BrokerRegistry;
  private readonly configs = new Map<string, { version: number; sources: readonly NodeId[] }>();

  private constructor(
    private readonly client: mqtt.MqttClient,
    private readonly prefix: Prefix,
  ) {
    const taps: PublishTap[] = [];
    this.registry = new BrokerRegistry({ tap: (fn) => taps.push(fn) }, prefix);
    const config = `${prefix}/config/`;
    client.on("message", (topic, payload) => {
      if (topic.startsWith(config)) this.config(topic, payload);
      else for (const t of taps) t(topic, payload, 0);
    });
  }

  /** Subscribes to the fleet's register, report, status and config topics; resolves once the retained flood is over. */
  static async open(client: mqtt.MqttClient, prefix: Prefix, sched: Scheduler): Promise<FleetWatch> {
    const w = new FleetWatch(client, prefix);
    let quiet: Timer | undefined;
    const settled = new Promise<void>((resolve) => {
      const done = () => {
        quiet?.cancel();
        bound.cancel();
        client.off("message", bump);
        resolve();
      };
      const bump = () => {
        quiet?.cancel();
        quiet = after(sched, RETAINED_QUIET_MS, done);
      };
      const bound = after(sched, RETAINED_MAX_MS, done);
      client.on("message", bump);
      bump();
    });
    await client.subscribeAsync(
      (["register", "report", "status", "config"] as const).map((k) => allNodesTopic(prefix, k)),
      { qos: 1 },
    );
    await settled;
    return w;
  }

  /** The newest config version the broker holds for `id` (0: none). */
  configVersion(id: string): number {
    return this.configs.get(id)?.version ?? 0;
  }

  configSources(id: string): readonly NodeId[] | undefined {
    return this.configs.get(id)?.sources;
  }

  /** The registry as the run's registration source; `pairingConfirmed` stays 0 (no twins service confirms). */
  source(): RegistrationSource {
    const r = this.registry;
    const client = this.client;
    return {
      get up() {
        return client.connected;
      },
      onRegistered: (fn) => r.on("registered", (e) => fn(e.id)),
      onUpdated: (fn) => r.on("updated", (e) => fn(e.id)),
      onOffline: (fn) => r.on("offline", (e) => fn(e.id)),
      isRegistered: (id) => {
        const e = r.get(id);
        return e?.registered === true && e.reported && e.online;
      },
      view: (ids: readonly NodeId[], pairing: Pairing) => {
        let known = 0;
        let online = 0;
        let desiredAsPaired = 0;
        for (const id of ids) {
          const e = r.get(id);
          if (e?.registered && e.reported) known++;
          if (e?.online) online++;
          const has = this.configSources(id);
          if (has !== undefined && sameSet(has, pairing.get(id) ?? [])) desiredAsPaired++;
        }
        return { known, online, desiredAsPaired, pairingConfirmed: 0 };
      },
    };
  }

  private config(topic: string, payload: Buffer): void {
    if (payload.length === 0) {
      this.configs.delete(topic.slice(`${this.prefix}/config/`.length));
      return;
    }
    try {
      const m = decode(this.prefix, topic, payload);
      if (m.kind === "config") {
        const had = this.configs.get(m.node);
        if (!had || m.version >= had.version)
          this.configs.set(m.node, { version: m.version, sources: m.sources });
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  }
}
