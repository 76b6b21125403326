/**
 * What a shard knows of the whole fleet, read from the broker's traffic by one plain client — no
 * twins service in the shard (N shards would run N of them, each handling the whole fleet's traffic,
 * beside their nodes on one host): which nodes registered, reported and are online
 * (sim/broker-registry.ts, as a virtual run reads its in-memory broker), and the retained config of
 * each node, so the shard pairs its own nodes with a version above the broker's. Its connection's
 * going and coming back is told by twins/broker-watch.ts, for the shard's broker outages.
 */
import type mqtt from "mqtt";
import type { Scheduler } from "../node/scheduler.js";
import { allNodesTopic, decode, encode, type NodeId, type Prefix, ProtocolError } from "../protocol/index.js";
import { BrokerRegistry } from "../sim/broker-registry.js";
import type { PublishTap } from "../sim/memory-broker.js";
import {
  type BrokerLogin,
  backOffRefusals,
  connectClient,
  loginOptions,
  RETRY_REFUSALS,
} from "../twins/index.js";
import { type RegistrationSource, registrySource } from "./registrations.js";
import { retainedSettled } from "./waits.js";

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
    const register = `${prefix}/register/`;
    client.on("message", (topic, payload, packet) => {
      if (topic.startsWith(config)) this.config(topic, payload);
      // A register is never retained (protocol.md §3): one a broker replays is not the node registering.
      else if (!(packet.retain && topic.startsWith(register))) for (const t of taps) t(topic, payload, 0);
    });
  }

  /** Subscribes to the fleet's register, report, status and config topics; resolves once the retained flood is over. */
  static async open(client: mqtt.MqttClient, prefix: Prefix, sched: Scheduler): Promise<FleetWatch> {
    const w = new FleetWatch(client, prefix);
    const settled = retainedSettled(sched, (message) => {
      client.on("message", message);
      return () => client.off("message", message);
    });
    await client.subscribeAsync(
      (["register", "report", "status", "config"] as const).map((k) => allNodesTopic(prefix, k)),
      { qos: 1 },
    );
    await settled;
    // The registers sent while it was away are not sent again: a node back sooner than this client
    // (a partition of the shard's host healed while its next attempt waited) would never be counted
    // back. A query after each reconnect (MQTT.js has subscribed again by then) makes every live node
    // register again.
    const query = encode(prefix, { kind: "query" });
    client.on(
      "connect",
      () => void client.publishAsync(query.topic, query.payload, { qos: 1 }).catch(() => {}),
    );
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
    return registrySource(
      this.registry,
      (id) => this.configSources(id),
      () => this.client.connected,
    );
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

/**
 * The watch client's keepalive, as the twins' link's (twins/broker-link.ts): a broker gone silent (a
 * stopped process, a cut network) is noticed when a ping goes unanswered, 15 to 22.5 s after its last
 * acknowledgement. MQTT.js' default of 60 s would miss a silence shorter than a minute.
 */
export const WATCH_KEEPALIVE_S = 15;

/**
 * How often a watch client tries again while its broker is away. It is what times the broker's
 * outages (fleet/broker-outages.ts): the outage ends when it is back, so it tries often, and a broker
 * started again is told back within this of listening (at 1 s, outages read 0.4-1.2 s long).
 */
export const WATCH_RECONNECT_MS = 200;

/**
 * The first pause after a refusal of its login, doubled at each refusal in a row (twins/refusal-
 * backoff.ts), as the twins service's: refused every 200 ms, a login would soon be banned.
 */
const WATCH_REFUSED_BASE_MS = 1000;

/** A watch client (a shard's, a run's probe): clean, retrying every 200 ms, with the keepalive above. */
export function connectWatchClient(
  url: string,
  login: BrokerLogin | undefined,
  stop?: AbortSignal,
): Promise<mqtt.MqttClient> {
  // Its first connection closed at once (a broker out of files) fails it: it used to try again
  // every 200 ms, for ever, before its run or shard had printed a line.
  return connectClient(
    url,
    {
      clean: true,
      reconnectPeriod: WATCH_RECONNECT_MS,
      connectTimeout: 10_000,
      keepalive: WATCH_KEEPALIVE_S,
      ...loginOptions(login),
      // A refusal during an outage (a login revoked, then put back) is tried again, at growing pauses.
      ...RETRY_REFUSALS,
    },
    stop,
  ).then((client) => {
    backOffRefusals(client, WATCH_RECONNECT_MS, WATCH_REFUSED_BASE_MS);
    return client;
  });
}
