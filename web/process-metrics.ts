/**
 * The process metrics of a `/metrics` registry (`twinfleet_process_*`, `twinfleet_nodejs_*`):
 * prom-client's default collectors, each its own module from the list collectDefaultMetrics runs
 * (`metricsList`, so an upgrade that moves one fails at start-up, not silently), but the open-files
 * count, read here. prom-client's lists /proc/self/fd and, when that fails, keeps its last count: at
 * the open-files limit the listing itself is refused (EMFILE), so a broker at 130 of 130 read 58, the
 * count from before the limit, for as long as it stayed there, and no open-files alert could fire.
 * This one reads the limit then (docs/metrics.md, "Alerts").
 */
import { createRequire } from "node:module";
import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";
import { countOpenFiles, readOpenFiles } from "../node/open-files.js";

type Collector = (
  registry: Registry,
  config: { readonly prefix: string; readonly eventLoopMonitoringPrecision: number },
) => void;

/** prom-client's collector replaced by openFilesGauge. */
const OPEN_FILES_COLLECTOR = "processOpenFileDescriptors";

/** How the open files are read: the count now, and the limit (read once, as process_max_fds is). */
export interface OpenFilesReader {
  count(): number | "full" | undefined;
  limit(): number | undefined;
}

const PROC: OpenFilesReader = { count: () => countOpenFiles(), limit: () => readOpenFiles()?.limit };

/** prom-client's process collectors on `registry`, but those named in `leftOut` (e.g. `gc`). */
export function processMetrics(
  registry: Registry,
  prefix: string,
  leftOut: readonly string[] = [],
  files: OpenFilesReader = PROC,
): void {
  const load = createRequire(import.meta.url);
  for (const name of collectDefaultMetrics.metricsList) {
    if (leftOut.includes(name) || name === OPEN_FILES_COLLECTOR) continue;
    (load(`prom-client/lib/metrics/${name}.js`) as Collector)(registry, {
      prefix,
      eventLoopMonitoringPrecision: 10,
    });
  }
  openFilesGauge(registry, prefix, files);
}

/**
 * `process_open_fds`: the files open at the scrape (the listing's own left out, as prom-client
 * counts), or the limit when not even the listing can be opened; absent where there is no /proc.
 */
function openFilesGauge(registry: Registry, prefix: string, files: OpenFilesReader): void {
  const limit = files.limit();
  if (limit === undefined) return;
  new Gauge({
    name: `${prefix}process_open_fds`,
    help: "Number of open file descriptors (process_max_fds when the limit is reached)",
    registers: [registry],
    collect() {
      const n = files.count();
      if (n === "full") {
        if (Number.isFinite(limit)) this.set(limit);
      } else if (n !== undefined) {
        this.set(n - 1);
      }
    },
  });
}
