/**
 * The test suites' global setup: compiles the sources (what tsconfig.build.json builds) to JavaScript
 * in a fresh directory and names it in TWINFLEET_COMPILED (node/paths.ts), so the worker threads and
 * child processes the tests start load plain JavaScript instead of each compiling the sources under
 * tsx again (about a second of CPU apiece, over a hundred of them in `npm test`). The copy is made
 * from the sources as they are at the start of the run, and removed at its end (or, when a run is
 * killed before, by the next run's setup).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { COMPILED_ENV } from "../node/paths.js";
import { buildSources } from "../node/test/build-sources.js";

const ROOT = join(import.meta.dirname, "..");

/** Whether process `pid` is still running. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the copies of runs that ended without their teardown (a run killed, Ctrl-C twice). */
function removeOrphans(cache: string): void {
  for (const name of readdirSync(cache)) {
    const pid = /^compiled-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && !running(Number(pid)))
      rmSync(join(cache, name), { recursive: true, force: true });
  }
}

export default async function setup(): Promise<() => void> {
  const cache = join(ROOT, "node_modules", ".cache", "twinfleet");
  mkdirSync(cache, { recursive: true });
  removeOrphans(cache);
  const out = mkdtempSync(join(cache, `compiled-${process.pid}-`));
  await build({
    entryPoints: buildSources(ROOT),
    outdir: out,
    outbase: ROOT,
    format: "esm",
    platform: "node",
    target: "node20",
    tsconfig: join(ROOT, "tsconfig.json"),
    logLevel: "error",
  });
  // Under node_modules/ no package scope is found above the files: this one makes them ES modules.
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
  process.env[COMPILED_ENV] = out;
  return () => rmSync(out, { recursive: true, force: true });
}
