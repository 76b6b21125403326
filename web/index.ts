/**
 * The web control server's public surface: start it over a fleet view.
 */

export type { AddressBounds } from "./address-bounds.js";
export { isLoopbackHost, newToken } from "./auth.js";
export {
  type BrokerHttpOptions,
  type BrokerHttpServer,
  type BrokerStarting,
  brokerHealth,
  startBrokerHttp,
} from "./broker-server.js";
export { type ProxySpec, TrustedProxies } from "./client-address.js";
export { type HttpBind, httpBind } from "./listen.js";
export { type FleetFigures, LATENCY_BUCKETS_S } from "./metrics.js";
export { BODY_LIMIT_BYTES, startWebServer, type WebServer, type WebServerOptions } from "./server.js";
export type { FleetKind } from "./shapes.js";
