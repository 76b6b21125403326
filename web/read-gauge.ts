/**
 * A Prometheus gauge read when scraped: prom-client's Gauge whose collect() sets it from `read`, so
 * keeping the figure current costs the service nothing between scrapes.
 */
import { Gauge, type Registry } from "prom-client";

export function readGauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
