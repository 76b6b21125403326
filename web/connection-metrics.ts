/**
 * What the connection cap of an HTTP server did (web/connection-limits.ts), on its `/metrics`
 * registry: the connections open now, the cap, those closed at the cap by reason, and the requests
 * refused 429 for their remote address's bound (web/address-bounds.ts), by bound, and a trusted
 * proxy's requests whose forwarding header named no client (web/client-address.ts). One set of
 * metrics for both servers that cap their connections, the fleet's (web/metrics.ts) and a standalone
 * broker's (web/broker-metrics.ts), under the same names: docs/metrics.md, "Prometheus".
 */
import { Counter, type Registry } from "prom-client";
import type { ConnectionCounts } from "./connection-limits.js";
import { readGauge } from "./read-gauge.js";

/** The connection metrics of `connections` on `registry`, names prefixed `prefix` (`twinfleet_`). */
export function connectionMetrics(registry: Registry, prefix: string, connections: ConnectionCounts): void {
  readGauge(
    registry,
    `${prefix}web_connections`,
    "HTTP connections open to the web server now",
    () => connections.open,
  );
  readGauge(
    registry,
    `${prefix}web_connections_max`,
    "HTTP connections the web server keeps open at once",
    () => connections.cap,
  );
  new Counter({
    name: `${prefix}web_connections_closed_total`,
    help: "HTTP connections closed at the cap: to make room (reason=idle: answered, nothing asked since; reason=no-request: open longest without a request), refused with every one busy (reason=refused), or closed for sending more requests ahead of their answers than the server keeps (reason=pipelined)",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: "idle" }, connections.idle);
      this.inc({ reason: "no-request" }, connections.noRequest);
      this.inc({ reason: "refused" }, connections.refused);
      this.inc({ reason: "pipelined" }, connections.pipelined);
    },
  });
  new Counter({
    name: `${prefix}web_requests_limited_total`,
    help: "HTTP requests refused 429 for their remote address's bound: more connections open at once from it than the server takes (bound=connections), or more requests a second (bound=rate); loopback is not bounded",
    labelNames: ["bound"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ bound: "connections" }, connections.limited.connections);
      this.inc({ bound: "rate" }, connections.limited.rate);
    },
  });
  new Counter({
    name: `${prefix}web_forwarded_header_bad_total`,
    help: "HTTP requests from a trusted proxy (--http-trusted-proxy) whose X-Forwarded-For or Forwarded header named no client address: each bounded as the proxy itself; the WARN line saying so is written at most once a minute",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(connections.forwardedBad);
    },
  });
}
