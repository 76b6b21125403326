/**
 * The sync latency histogram's buckets reach past the deliveries an outage makes late: a broker down
 * 40 s put a tenth of a run's samples over 10 s, and `histogram_quantile` over a last bucket of 10 s
 * read them all as 10 s (docs/metrics.md, "Prometheus").
 */
import { expect, it } from "vitest";
import type { ConsoleSource } from "../../view/source.js";
import { WebMetrics } from "../metrics.js";
import { parsePrometheus } from "./helpers.js";

const source = {
  nodes: () => [],
  convergence: () => ({ inSync: 0, fraction: 1, known: 0, online: 0 }),
} as unknown as ConsoleSource;

it("counts deliveries late by an outage of seconds to minutes in buckets of their own", async () => {
  let held = [400, 8_000, 14_000, 45_000, 95_000, 250_000];
  const metrics = new WebMetrics(source, {
    latencySince: () => {
      const out = held;
      held = [];
      return out;
    },
  });
  const m = parsePrometheus(await metrics.text());
  const le = (b: string) => m.get(`twinfleet_sync_latency_seconds_bucket{le="${b}"}`);
  expect(le("1")).toBe(1);
  expect(le("10")).toBe(2);
  expect(le("20")).toBe(3);
  expect(le("60")).toBe(4);
  expect(le("120")).toBe(5);
  expect(le("300")).toBe(6);
  expect(le("+Inf")).toBe(6);
  metrics.close();
});
