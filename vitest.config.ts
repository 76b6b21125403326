import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "{protocol,node,sim,twins,broker,fleet,sweep,view,web,cli,console,profiles,bench}/**/*.test.ts",
      "layering.test.ts",
      "switches.test.ts",
      "time.test.ts",
    ],
    // The browser suite needs Chromium and Prometheus: `npm run test:web` (vitest.web.config.ts).
    exclude: [...configDefaults.exclude, "web/test/browser/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // At least two files at a time (Vitest's default is one fewer than the cores: a single file at a
    // time on two). Many files wait on real sockets and child processes rather than on the CPU; on two
    // cores the ten slowest files took 106 and 113 s this way against 185 and 205 s one at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
