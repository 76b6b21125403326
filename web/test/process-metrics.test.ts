/**
 * web/process-metrics.ts: the process metrics of `/metrics`. At the open-files limit the listing of
 * /proc/self/fd is itself refused (EMFILE); prom-client's own gauge then kept its last count (a broker
 * at 130 of 130 read 58), so no open-files alert fired. Ours reads the limit then.
 */
import { Registry } from "prom-client";
import { expect, it } from "vitest";
import { type OpenFilesReader, processMetrics } from "../process-metrics.js";
import { parsePrometheus } from "./helpers.js";

async function openFds(files: OpenFilesReader, leftOut: readonly string[] = ["gc"]) {
  const registry = new Registry();
  processMetrics(registry, "tf_", leftOut, files);
  const m = parsePrometheus(await registry.metrics());
  const names = registry.getMetricsAsArray().map((x) => x.name);
  return { open: m.get("tf_process_open_fds"), names };
}

it("reads the limit as the open files when not even /proc/self/fd can be listed (EMFILE)", async () => {
  let count: number | "full" = 58;
  const files = { count: () => count, limit: () => 130 };
  const registry = new Registry();
  processMetrics(registry, "tf_", ["gc"], files);
  expect(parsePrometheus(await registry.metrics()).get("tf_process_open_fds")).toBe(57);
  count = "full";
  expect(parsePrometheus(await registry.metrics()).get("tf_process_open_fds")).toBe(130);
  count = 40;
  expect(parsePrometheus(await registry.metrics()).get("tf_process_open_fds")).toBe(39);
});

it("has no open-files gauge where there is no /proc, and one set with the rest where there is", async () => {
  expect((await openFds({ count: () => undefined, limit: () => undefined })).open).toBeUndefined();
  const real = await openFds({ count: () => 12, limit: () => 1024 });
  expect(real.open).toBe(11);
  expect(real.names).toContain("tf_process_cpu_seconds_total");
  expect(real.names).toContain("tf_process_start_time_seconds");
  expect(real.names.filter((n) => n === "tf_process_open_fds")).toHaveLength(1);
  expect(real.names).not.toContain("tf_nodejs_gc_duration_seconds");
  const withGc = await openFds({ count: () => 12, limit: () => 1024 }, []);
  expect(withGc.names).toContain("tf_nodejs_gc_duration_seconds");
});
