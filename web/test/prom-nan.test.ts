/**
 * prom-client 15.1.3 wrote a sample that is not a number as `Nan`; the Prometheus text format and
 * OpenMetrics spell it `NaN`, and strict parsers refuse anything else. The runtime's event-loop
 * gauges have no sample when /metrics is scraped twice within their window, so a page of ours carried
 * it. `patches/prom-client+15.1.3.patch` writes `NaN` (docs/metrics.md).
 */
import { Gauge, Registry } from "prom-client";
import { expect, it } from "vitest";
import { parsePrometheus } from "./helpers.js";

it("writes a gauge that is not a number as NaN, which a strict parser reads", async () => {
  const registry = new Registry();
  const gauge = new Gauge({ name: "tf_test_gauge", help: "a gauge", registers: [registry] });
  gauge.set(Number.NaN);
  const text = await registry.metrics();
  expect(text).toContain("tf_test_gauge NaN\n");
  expect(parsePrometheus(text).get("tf_test_gauge")).toBeNaN();
});
