// The unit and integration tests (`npm test`): which files, which get a module registry of their own (vi.mock), and how many workers.
import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

const FILES = [
  "{protocol,node,sim,twins,broker,fleet,sweep,view,web,cli,console,profiles,bench}/**/*.test.ts",
  "layering.test.ts",
  "switches.test.ts",
  "time.test.ts",
];
// The browser suite needs Chromium and Prometheus: `npm run test:web` (vitest.web.config.ts).
const NOT = [...configDefaults.exclude, "web/test/browser/**"];
/** Test files that replace modules (`vi.mock`): they need a module registry of their own. */
const MOCKING = [
  "broker/test/store-probe-stall.test.ts",
  "cli/test/sim-console-load.test.ts",
  "fleet/test/start-options.test.ts",
  "fleet/test/virtual-split-unstarted.test.ts",
  "node/test/make-dir-frozen.test.ts",
  "node/test/scheduler-origin.test.ts",
  "node/test/whole-file.test.ts",
  "twins/test/history-stall.test.ts",
  "twins/test/own-stall-writes.test.ts",
  "twins/test/store-access.test.ts",
  "twins/test/store-disk.test.ts",
  "twins/test/store-sync.test.ts",
];

export default defineConfig({
  test: {
    // The sources compiled once for the threads and processes the tests start (scripts/test-compiled.ts).
    globalSetup: ["scripts/test-compiled.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // `expect.poll` waits on sockets, disk and the broker's clean-up: its default second is a bound
    // a busy host can pass; the deadline only bounds a failing wait.
    expect: { poll: { timeout: 10_000 } },
    pool: "forks",
    // At least four files at a time (Vitest's default is one fewer than the cores: a single file at
    // a time on two). Many files wait on real sockets, child processes and timers rather than on the
    // CPU: on two cores the ten slowest files took 106 and 113 s two at a time against 185 and 205 s
    // one at a time; `npm test` took 0.91x the wall time three at a time against two (175 against
    // 191 s), and, once the threads and processes the tests start loaded compiled JavaScript (less
    // CPU, more waiting), 0.90x four at a time against three (135 against 151 s, the same CPU time;
    // medians of two pairs run in turn, from fresh clones).
    maxWorkers: Math.max(4, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        // A worker keeps its loaded modules from one file to the next: importing the project again
        // for each of 126 files took 32 s of the workers' time, 11 s this way. Every file cleans up
        // after itself (sockets, workers, timers, listeners); only the mocking files start afresh.
        test: { name: "shared", include: FILES, exclude: [...NOT, ...MOCKING], isolate: false },
      },
      { extends: true, test: { name: "isolated", include: MOCKING, exclude: NOT } },
    ],
  },
});
