/**
 * The MQTT.js options of the twins service's one connection (twins/broker-link.ts): its client id,
 * a clean session, MQTT 3.1.1, the 15 s keepalive, its reconnect period and connect timeout, the
 * login and TLS, the refusals tried again, and the empty retained will that clears its presence when
 * the service dies without a goodbye. Subscriptions are made in a fixed order on every connect, by
 * the link, not by MQTT.js.
 */
import type { IClientOptions } from "mqtt";
import { bracketedWsUrl, loginOptions } from "./connection.js";
import type { ResolvedTwinsOptions } from "./options.js";
import { RETRY_REFUSALS } from "./refusal-backoff.js";

export function linkClientOptions(opts: ResolvedTwinsOptions, presenceTopic: string): IClientOptions {
  return {
    clientId: opts.clientId,
    clean: true,
    protocolVersion: 4,
    keepalive: 15,
    reconnectPeriod: opts.reconnectPeriodMs,
    connectTimeout: opts.connectTimeoutMs,
    resubscribe: false,
    ...loginOptions({ username: opts.username, password: opts.password, tls: opts.tls }),
    transformWsUrl: bracketedWsUrl,
    ...RETRY_REFUSALS,
    ...(opts.presence
      ? { will: { topic: presenceTopic, payload: Buffer.alloc(0), qos: 1, retain: true } }
      : {}),
  };
}
